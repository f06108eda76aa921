using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The console's overview figures, from one admin request, against calls made at known times.</summary>
public sealed class OverviewTests
{
    private const decimal CallCost = 0.000028m; // the default chat call: 12 input tokens at 1.00 and 8 output at 2.00 per million

    private static readonly string Capped = GatewayHost.Chat(extra: ",\"max_tokens\":8");

    [Fact]
    public async Task The_overview_gives_spend_today_and_this_month_the_forecast_top_consumers_and_refusals_by_reason()
    {
        // Redis expires keys by its own clock; the fake clock needs the in-process counters.
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-09T12:00:00Z", CultureInfo.InvariantCulture));
        await using var host = new GatewayHost(s => s.Redis = null, clock);
        await host.InitializeAsync();
        var (bigId, big) = await host.CreateKey(new { name = "big", owner = new { team = "search" } });
        var (smallId, small) = await host.CreateKey(new { name = "small" });
        var (_, broke) = await host.CreateKey(new { name = "broke", budget = new { period = "day", hard = 0.000001m, time_zone = "UTC" } });

        await Call(host, big, 200); // yesterday: in the month and in the trend, not today
        clock.Advance(TimeSpan.FromDays(1));
        await Call(host, big, 200);
        await Call(host, big, 200);
        await Call(host, small, 200);
        await Call(host, "tg-not-a-key", 401);
        await Call(host, "tg-not-a-key-either", 401);
        await Call(host, broke, 429);

        var overview = await host.AdminJson(HttpMethod.Get, "/admin/reports/overview?time_zone=UTC&top=2");

        Assert.Equal("UTC", overview.GetProperty("time_zone").GetString());
        var today = overview.GetProperty("today");
        Assert.Equal(DateTimeOffset.Parse("2026-11-10T00:00:00Z", CultureInfo.InvariantCulture), today.GetProperty("start").GetDateTimeOffset());
        Assert.Equal((3L, 3 * CallCost), (today.GetProperty("requests").GetInt64(), today.GetProperty("spend").GetDecimal()));
        var month = overview.GetProperty("month");
        Assert.Equal((4L, 4 * CallCost), (month.GetProperty("requests").GetInt64(), month.GetProperty("spend").GetDecimal()));
        // 4 calls in the last 7 days, 20.5 days left in November.
        Assert.Equal(Math.Round((4 * CallCost) + (4 * CallCost / 7 * 20.5m), 10, MidpointRounding.ToEven), month.GetProperty("forecast_spend").GetDecimal());
        var consumers = overview.GetProperty("top_consumers").EnumerateArray().ToList();
        Assert.Equal([bigId, smallId], consumers.Select(c => c.GetProperty("key").GetString()));
        Assert.Equal(("big", "search", 3L, 3 * CallCost), (consumers[0].GetProperty("name").GetString(), consumers[0].GetProperty("team").GetString(),
            consumers[0].GetProperty("requests").GetInt64(), consumers[0].GetProperty("spend").GetDecimal()));
        Assert.Equal((0m, 0m), (overview.GetProperty("savings").GetProperty("cache").GetDecimal(), overview.GetProperty("savings").GetProperty("routing").GetDecimal()));
        var refusals = overview.GetProperty("refusals").EnumerateArray().Select(r => (r.GetProperty("reason").GetString(), r.GetProperty("requests").GetInt64()));
        Assert.Equal([("invalid_api_key", 2L), ("budget_exceeded", 1L)], refusals);
    }

    [Fact]
    public async Task An_unknown_time_zone_or_a_bad_top_is_a_400()
    {
        await using var host = new GatewayHost();
        await host.InitializeAsync();

        using var zone = await host.Admin(HttpMethod.Get, "/admin/reports/overview?time_zone=Mars/Olympus");
        using var top = await host.Admin(HttpMethod.Get, "/admin/reports/overview?top=0");

        Assert.Equal(400, (int)zone.StatusCode);
        Assert.Equal(400, (int)top.StatusCode);
        Assert.Equal("top", JsonDocument.Parse(await top.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    private static async Task Call(GatewayHost host, string key, int status)
    {
        using var response = await host.Proxy("/v1/chat/completions", key, Capped);
        Assert.Equal(status, (int)response.StatusCode);
    }
}

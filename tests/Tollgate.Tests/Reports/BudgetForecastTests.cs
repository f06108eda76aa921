using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Budget rows carry where spend is heading by the period's end, by the overview's formula, per subject.</summary>
public sealed class BudgetForecastTests
{
    private const decimal CallCost = 0.000028m; // 12 input tokens at 1.00 and 8 output at 2.00 per million

    private static readonly string Capped = GatewayHost.Chat(extra: ",\"max_tokens\":8");

    [Fact]
    public async Task A_budget_row_gives_the_forecast_spend_and_when_the_hard_limit_would_be_reached()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-09T12:00:00Z", CultureInfo.InvariantCulture));
        await using var host = new GatewayHost(s => s.Redis = null, clock);
        await host.InitializeAsync();
        var (_, search) = await host.CreateKey(new { name = "search", owner = new { team = "search" } });
        var (_, other) = await host.CreateKey(new { name = "other", owner = new { team = "ads" } });
        await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = "search", period = "month", hard = 0.0002m, time_zone = "UTC" });
        await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = "ads", period = "month", hard = 1m, time_zone = "UTC" });
        await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = "search", period = "total", hard = 1m });

        await Call(host, search);
        await Call(host, search);
        clock.Advance(TimeSpan.FromDays(1)); // now 2026-11-10T12:00Z: 20.5 days left in November
        await Call(host, search);
        await Call(host, search);
        await Call(host, other);

        var rows = (await host.AdminJson(HttpMethod.Get, "/admin/budgets")).EnumerateArray().ToList();
        var month = rows.Single(r => r.GetProperty("subject").GetString() == "search" && r.GetProperty("period").GetString() == "month");
        // 4 calls in the last 7 days: 4 × cost / 7 a day.
        Assert.Equal(4 * CallCost, month.GetProperty("spent").GetDecimal());
        Assert.Equal(Math.Round((4 * CallCost) + (4 * CallCost / 7 * 20.5m), 10, MidpointRounding.ToEven), month.GetProperty("forecast_spend").GetDecimal());
        // (0.0002 − 0.000112) / 0.000016 a day = 5.5 days after now.
        Assert.Equal(DateTimeOffset.Parse("2026-11-16T00:00:00Z", CultureInfo.InvariantCulture), month.GetProperty("forecast_exhausted_at").GetDateTimeOffset());

        var ads = rows.Single(r => r.GetProperty("subject").GetString() == "ads");
        Assert.Equal(Math.Round(CallCost + (CallCost / 7 * 20.5m), 10, MidpointRounding.ToEven), ads.GetProperty("forecast_spend").GetDecimal());
        Assert.False(ads.TryGetProperty("forecast_exhausted_at", out _)); // 1.00 is not reached this month (nulls are left out)

        var total = rows.Single(r => r.GetProperty("period").GetString() == "total");
        Assert.False(total.TryGetProperty("forecast_spend", out _)); // a total budget has no end
    }

    private static async Task Call(GatewayHost host, string key)
    {
        using var response = await host.Proxy("/v1/chat/completions", key, Capped);
        Assert.Equal(200, (int)response.StatusCode);
    }
}

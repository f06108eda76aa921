using Microsoft.Extensions.Time.Testing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Month ends in a DST zone and a leap day, on a fake clock.</summary>
public sealed class DstCycleBoundaryTests
{
    /// <summary>Redis expires keys by its own clock, so tests on a fake clock keep counters in process.</summary>
    private static void FakeClockSettings(Gateway.Hosting.GatewaySettings s) => s.Redis = null;

    private static readonly string Capped = GatewayHost.Chat(extra: ",\"max_tokens\":8");

    [Fact]
    public async Task A_monthly_budget_in_new_york_resets_at_local_midnight_on_the_first_even_on_a_dst_day()
    {
        // 23:59 EDT on Saturday 31 October 2026; clocks fall back at 02:00 on 1 November.
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-01T03:59:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var host = new GatewayHost(FakeClockSettings, clock);
        await host.InitializeAsync();
        var (_, key) = await host.CreateKey(new { name = "ny", budget = new { period = "month", hard = 0.00003m, time_zone = "America/New_York" } });

        using var october = await host.Proxy("/v1/chat/completions", key, Capped);
        using var refused = await host.Proxy("/v1/chat/completions", key, Capped);
        Assert.Equal(200, (int)october.StatusCode);
        await ApiErrors.AssertError(refused, "/v1/chat/completions", 429, "budget_exceeded");
        Assert.Equal(60, refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds);

        clock.Advance(TimeSpan.FromMinutes(1));
        using var november = await host.Proxy("/v1/chat/completions", key, Capped);
        Assert.Equal(200, (int)november.StatusCode);

        // November in New York is 30 days and 1 hour long: the next reset is at 05:00 UTC on 1 December.
        using var refusedAgain = await host.Proxy("/v1/chat/completions", key, Capped);
        var untilDecember = DateTimeOffset.Parse("2026-12-01T05:00:00Z", System.Globalization.CultureInfo.InvariantCulture) - clock.GetUtcNow();
        Assert.Equal(untilDecember.TotalSeconds, refusedAgain.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
    }

    [Fact]
    public async Task A_daily_quota_treats_the_leap_day_as_a_day_of_its_own()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2028-02-28T23:59:30Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var host = new GatewayHost(FakeClockSettings, clock);
        await host.InitializeAsync();
        var (keyId, key) = await host.CreateKey();
        // One reservation fits; after the first call settles at 20 tokens, a second does not.
        var reserved = Gateway.Metering.TokenEstimator.EstimateInput(System.Text.Encoding.UTF8.GetBytes(Capped)) + 8;
        await host.AdminJson(HttpMethod.Post, "/admin/quota-rules", new { name = "daily", limit_tokens = reserved + 10, cycle = "day", time_zone = "UTC", consumers = new[] { "key:" + keyId } });

        async Task<int> Call()
        {
            using var response = await host.Proxy("/v1/chat/completions", key, Capped);
            return (int)response.StatusCode;
        }

        Assert.Equal(200, await Call()); // 28 February
        Assert.Equal(429, await Call());
        clock.Advance(TimeSpan.FromSeconds(30)); // 29 February 00:00
        Assert.Equal(200, await Call());
        Assert.Equal(429, await Call());
        clock.Advance(TimeSpan.FromDays(1)); // 1 March
        Assert.Equal(200, await Call());
    }
}

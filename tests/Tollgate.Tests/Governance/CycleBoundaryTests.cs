using Microsoft.Extensions.Time.Testing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Counters roll over at the natural cycle boundary of their time zone, driven by a fake clock.</summary>
public sealed class CycleBoundaryTests : IAsyncLifetime
{
    // 23:59:00 in Shanghai, a Sunday: the next minute starts a new day and a new week there.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-11-29T15:59:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly GatewayHost _host;

    public CycleBoundaryTests() => _host = new GatewayHost(s => s.Redis = null, _clock);

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task A_daily_quota_in_shanghai_resets_at_shanghai_midnight_not_utc_midnight()
    {
        var (keyId, key) = await _host.CreateKey();
        var body = GatewayHost.Chat(extra: ",\"max_tokens\":8");
        var reserved = Gateway.Metering.TokenEstimator.EstimateInput(System.Text.Encoding.UTF8.GetBytes(body)) + 8;
        // One reservation fits; after the first call settles at 20 tokens, a second reservation does not.
        await _host.AdminJson(HttpMethod.Post, "/admin/quota-rules", new { name = "one-call-a-day", limit_tokens = reserved + 10, cycle = "day", consumers = new[] { "key:" + keyId } });

        using var first = await _host.Proxy("/v1/chat/completions", key, body);
        using var refused = await _host.Proxy("/v1/chat/completions", key, body);
        Assert.Equal(200, (int)first.StatusCode);
        await ApiErrors.AssertError(refused, "/v1/chat/completions", 429, "token_quota_exceeded");
        Assert.Equal(60, refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds);

        _clock.Advance(TimeSpan.FromSeconds(60));
        using var nextDay = await _host.Proxy("/v1/chat/completions", key, body);

        Assert.Equal(200, (int)nextDay.StatusCode);
    }

    [Fact]
    public async Task A_weekly_budget_starts_again_on_monday_in_its_zone()
    {
        var (_, key) = await _host.CreateKey(new { name = "weekly", budget = new { period = "week", hard = 0.00003m, time_zone = "Asia/Shanghai" } });

        using var first = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(extra: ",\"max_tokens\":8"));
        using var refused = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(extra: ",\"max_tokens\":8"));
        Assert.Equal(200, (int)first.StatusCode);
        await ApiErrors.AssertError(refused, "/v1/chat/completions", 429, "budget_exceeded");

        _clock.Advance(TimeSpan.FromMinutes(1)); // Monday 00:00 in Shanghai
        using var monday = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(extra: ",\"max_tokens\":8"));

        Assert.Equal(200, (int)monday.StatusCode);
    }

    [Fact]
    public async Task A_utc_daily_budget_does_not_reset_at_shanghai_midnight()
    {
        var (_, key) = await _host.CreateKey(new { name = "utc-daily", budget = new { period = "day", hard = 0.00003m, time_zone = "UTC" } });

        using var first = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(extra: ",\"max_tokens\":8"));
        _clock.Advance(TimeSpan.FromMinutes(2));
        using var stillRefused = await _host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(extra: ",\"max_tokens\":8"));

        Assert.Equal(200, (int)first.StatusCode);
        await ApiErrors.AssertError(stillRefused, "/v1/chat/completions", 429, "budget_exceeded");
        Assert.InRange(stillRefused.Headers.RetryAfter!.Delta!.Value.TotalHours, 7.9, 8.0); // until 00:00 UTC
    }
}

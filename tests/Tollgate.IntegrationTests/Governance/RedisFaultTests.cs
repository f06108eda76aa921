using Tollgate.Gateway.Hosting;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>With Redis unreachable, hard limits fail closed and rate limits fail open; nothing crashes.</summary>
public sealed class RedisFaultTests
{
    [Fact]
    public async Task An_unreachable_redis_refuses_budgeted_calls_with_503_and_lets_rate_limited_calls_through()
    {
        await using var host = await WithRedisDown();
        var (budgetedId, budgeted) = await host.CreateKey(new { name = "budgeted", budget = new { period = "day", hard = 1m } });
        var (_, rateLimited) = await host.CreateKey(new { name = "rate-limited", limits = new { rpm = 10 } });
        var before = host.Mock.Log.Count;

        using var closed = await host.Proxy("/v1/chat/completions", budgeted, GatewayHost.Chat());
        using var closedAnthropic = await host.Proxy("/v1/messages", budgeted, """{"model":"mock/echo","max_tokens":5,"messages":[]}""");
        using var open = await host.Proxy("/v1/chat/completions", rateLimited, GatewayHost.Chat());

        await ApiErrors.AssertError(closed, "/v1/chat/completions", 503, "governance_unavailable");
        Assert.Equal(503, (int)closedAnthropic.StatusCode);
        Assert.Contains("overloaded_error", await closedAnthropic.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(200, (int)open.StatusCode);
        Assert.Equal(before + 1, host.Mock.Log.Count);
        Assert.Empty(await host.Records(budgetedId));
    }

    [Fact]
    public async Task With_redis_unreachable_routes_fall_back_and_cool_down_on_this_replica_alone()
    {
        await using var host = await WithRedisDown();
        var name = "down-" + Guid.NewGuid().ToString("N")[..8];
        await host.AdminJson(HttpMethod.Post, "/admin/routes", new
        {
            name,
            targets = new[] { new { model = "mock/fail-503-" + name } },
            fallbacks = new[] { "mock/echo" },
            retry = new { attempts = 1 },
            cooldown = new { failures = 2, seconds = 60 },
        });
        var (_, key) = await host.CreateKey();

        var attempts = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(name));
            Assert.Equal(200, (int)response.StatusCode);
            attempts.Add(response.Headers.GetValues("X-Tollgate-Attempts").Single());
        }

        // Failures are counted in process while Redis is away: the third call skips the failing target.
        Assert.Equal(["2", "2", "1"], attempts);
    }

    [Fact]
    public async Task With_redis_unreachable_the_response_cache_is_skipped_and_calls_still_succeed()
    {
        await using var host = await WithRedisDown();
        var (id, key) = await host.CreateKey();
        await host.AdminJson(HttpMethod.Post, "/admin/cache-policies", new { scope = "key", subject = id, semantic = new { enabled = true, threshold = 0.9 } });
        var before = host.Mock.Log.Count;

        for (var i = 0; i < 2; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("miss", response.Headers.GetValues("X-Tollgate-Cache").Single());
        }

        using var embeddings = await host.Proxy("/v1/embeddings", key, """{"model":"mock/embed","input":["a","b"]}""");
        Assert.Equal(200, (int)embeddings.StatusCode);
        Assert.Equal(before + 3, host.Mock.Log.Count);
        Assert.Equal(3, (await host.Records(id)).Count);
    }

    [Fact]
    public async Task Fail_open_and_fail_closed_are_settings()
    {
        await using var host = await WithRedisDown(s =>
        {
            s.RateLimitsFailOpen = false;
            s.HardLimitsFailClosed = false;
        });
        var (_, budgeted) = await host.CreateKey(new { name = "budgeted", budget = new { period = "day", hard = 1m } });
        var (_, rateLimited) = await host.CreateKey(new { name = "rate-limited", limits = new { rpm = 10 } });

        using var budgetedCall = await host.Proxy("/v1/chat/completions", budgeted, GatewayHost.Chat());
        using var rateLimitedCall = await host.Proxy("/v1/chat/completions", rateLimited, GatewayHost.Chat());

        Assert.Equal(200, (int)budgetedCall.StatusCode);
        await ApiErrors.AssertError(rateLimitedCall, "/v1/chat/completions", 503, "governance_unavailable");
    }

    [Fact]
    public async Task Governance_recovers_by_itself_when_redis_comes_back()
    {
        var address = TestRedis.Address.Split(':');
        using var proxy = new TcpProxy(address[0], int.Parse(address[1], System.Globalization.CultureInfo.InvariantCulture));
        proxy.Start();
        await using var host = new GatewayHost(s =>
        {
            s.Redis = $"127.0.0.1:{proxy.Port}";
            s.RedisPrefix = "recover:" + Guid.NewGuid().ToString("N") + ":";
        });
        await host.InitializeAsync();
        var (_, budgeted) = await host.CreateKey(new { name = "budgeted", budget = new { period = "day", hard = 1m } });
        using (var before = await host.Proxy("/v1/chat/completions", budgeted, GatewayHost.Chat()))
        {
            Assert.Equal(200, (int)before.StatusCode);
        }

        proxy.Cut();
        using (var down = await host.Proxy("/v1/chat/completions", budgeted, GatewayHost.Chat()))
        {
            Assert.Equal(503, (int)down.StatusCode);
        }

        proxy.Start();
        var status = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); status != 200 && DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            using var response = await host.Proxy("/v1/chat/completions", budgeted, GatewayHost.Chat());
            status = (int)response.StatusCode;
        }

        Assert.Equal(200, status);
    }

    /// <summary>A started gateway whose Redis is an address nothing listens on, with <paramref name="configure"/>'s settings on top.</summary>
    private static async Task<GatewayHost> WithRedisDown(Action<GatewaySettings>? configure = null)
    {
        var host = new GatewayHost(s =>
        {
            s.Redis = "127.0.0.1:1"; // nothing listens there
            s.RedisPrefix = "down:";
            configure?.Invoke(s);
        });
        await host.InitializeAsync();
        return host;
    }
}

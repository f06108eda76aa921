using StackExchange.Redis;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Redis loses the counters (flushed, replaced): they come back from the ledger, and budgets hold again.</summary>
public sealed class CounterRecoveryTests
{
    [Fact]
    public async Task Counters_wiped_from_redis_are_rebuilt_from_the_ledger()
    {
        var prefix = "recovery:" + Guid.NewGuid().ToString("N") + ":";
        await using var host = new GatewayHost(s =>
        {
            s.Redis = TestRedis.Address;
            s.RedisPrefix = prefix;
            s.CounterCheckInterval = TimeSpan.FromMilliseconds(200);
        });
        await host.InitializeAsync();
        var team = "recovery-" + Guid.NewGuid().ToString("N")[..8];
        var (_, key) = await host.CreateKey(new { name = "r", owner = new { team } });
        await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = team, period = "month", hard = 1m });
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(extra: ",\"max_tokens\":8"));
            Assert.Equal(200, (int)response.StatusCode);
        }

        await Task.Delay(500); // the sentinel is in place
        var server = TestRedis.Connection.GetServer(TestRedis.Connection.GetEndPoints()[0]);
        var db = TestRedis.Connection.GetDatabase();
        foreach (var redisKey in server.Keys(pattern: prefix + "*"))
        {
            await db.KeyDeleteAsync(redisKey); // as FLUSHALL would, but only this gateway's keys
        }

        decimal spent = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline && spent == 0; await Task.Delay(100))
        {
            var budgets = await host.AdminJson(HttpMethod.Get, "/admin/budgets");
            spent = budgets.EnumerateArray().Single(b => b.GetProperty("subject").GetString() == team).GetProperty("spent").GetDecimal();
        }

        Assert.Equal(3 * 0.000028m, spent);
    }
}

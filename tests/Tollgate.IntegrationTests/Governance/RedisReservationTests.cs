using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// A hard budget against a provider that counts realistic prompts at 1.4 × the tokenizer plus 4 tokens per message,
/// with Redis counters: accepted = what fits and spend within the limit, as with in-process counters.
/// </summary>
public sealed class RedisReservationTests
{
    [Fact]
    public async Task A_hard_budget_on_redis_counters_accepts_what_fits_when_the_provider_counts_more_than_the_tokenizer()
    {
        await using var host = new GatewayHost(s =>
        {
            s.ReservationMargin = 1.5m;
            s.CalibrateReservations = true;
            s.Redis ??= TestRedis.Address;
            s.RedisPrefix = "test:" + Guid.NewGuid().ToString("N") + ":";
        });
        await host.InitializeAsync();
        var scenario = BudgetScenario.For(realistic: true, factor: 1.4, perMessage: 4, perReply: 3);
        var (id, key) = await host.CreateKey(new { name = "burst", budget = new { period = "day", hard = scenario.Limit, time_zone = "UTC" } });

        var accepted = await BudgetScenario.RunAsync(async _ =>
        {
            using var response = await host.Proxy("/v1/chat/completions", key, scenario.Body, scenario.Headers);
            await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.Headers.TryGetValues("X-Tollgate-Error-Code", out var code) ? code.Single() : null);
        });

        Assert.Equal(BudgetScenario.Fits, accepted);
        var records = await host.Records(id);
        Assert.Equal(BudgetScenario.Fits * scenario.CallCost, records.Sum(r => r.Cost));
        Assert.True(records.Sum(r => r.Cost) <= scenario.Limit);
    }
}

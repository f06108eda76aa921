using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// Hard budgets against providers that count more input tokens than the gateway's tokenizer, as real ones do (chat
/// templates add tokens per message and per reply; other tokenizers count 10–50 % more than o200k). Each test runs a
/// gateway with the production defaults: the safety margin until a model has history, then the calibrated factor.
/// </summary>
public sealed class ReservationTests
{
    [Theory]
    [InlineData(1.0, 8, 6, false)] // one-line calls, a chat template adding more than OpenAI's documented 3 + 3
    [InlineData(1.5, 0, 0, true)] // a tokenizer counting 1.5 × o200k
    [InlineData(1.5, 4, 3, true)] // both
    [InlineData(1.4, 4, 3, true)] // realistic prompts, 1.4 × plus a few tokens per message
    public async Task A_hard_budget_accepts_what_fits_and_no_more_when_the_provider_counts_more_than_the_tokenizer(double factor, int perMessage, int perReply, bool realistic)
    {
        // The production defaults (the test hosts otherwise reserve the estimate as it is). On PostgreSQL + Redis in the
        // suite's second run; across two replicas in the integration tests.
        await using var host = new GatewayHost(s =>
        {
            s.ReservationMargin = 1.5m;
            s.CalibrateReservations = true;
        });
        await host.InitializeAsync();
        var scenario = BudgetScenario.For(realistic, factor, perMessage, perReply);
        var team = "t-" + Guid.NewGuid().ToString("N")[..8];
        await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = team, period = "day", hard = scenario.Limit, time_zone = "UTC" });
        var (id, key) = await host.CreateKey(new { name = "burst", owner = new { team } });

        async Task<(int, string?)> Call()
        {
            using var response = await host.Proxy("/v1/chat/completions", key, scenario.Body, scenario.Headers);
            await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.Headers.TryGetValues("X-Tollgate-Error-Code", out var code) ? code.Single() : null);
        }

        var accepted = await BudgetScenario.RunAsync(_ => Call());

        Assert.Equal(BudgetScenario.Fits, accepted);
        var records = await host.Records(id);
        Assert.Equal(BudgetScenario.Fits, records.Count);
        Assert.All(records, r => Assert.Equal(scenario.ActualInput, r.Long("input_tokens")));
        Assert.Equal(BudgetScenario.Fits * scenario.CallCost, records.Sum(r => r.Cost));
        Assert.True(records.Sum(r => r.Cost) <= scenario.Limit);
        var budget = (await host.AdminJson(HttpMethod.Get, "/admin/budgets")).EnumerateArray().Single(b => b.GetProperty("subject").GetString() == team);
        Assert.Equal(BudgetScenario.Fits * scenario.CallCost, budget.GetProperty("spent").GetDecimal());
    }
}

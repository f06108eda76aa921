using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Metering;
using Tollgate.MockProvider;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// Hard budgets against providers that count more input tokens than the gateway's tokenizer, as real ones do (chat
/// templates add tokens per message and per reply; other tokenizers count 10–50 % more than o200k). Each test runs a
/// gateway with the production defaults: the safety margin until a model has history, then the calibrated factor.
/// </summary>
public sealed class ReservationTests
{
    /// <summary>A system prompt and a user turn of a few hundred tokens.</summary>
    internal static readonly string RealisticMessages = JsonSerializer.Serialize(new object[]
    {
        new { role = "system", content = string.Join(' ', Enumerable.Range(0, 12).Select(i => $"Rule {i}: answer as the billing assistant of a toll road operator, cite the tariff table, never invent prices, and keep every answer under eighty words.")) },
        new { role = "user", content = string.Join(' ', Enumerable.Range(0, 10).Select(i => $"Item {i}: a lorry with {i + 2} axles crossed the Hangzhou bay bridge at {7 + i}:15 on a weekday and again at night; what is the toll, and does the ETC discount apply?")) },
    });

    internal const string OneLineMessages = """[{"role":"user","content":"How much is the toll for a car from Shanghai to Suzhou?"}]""";

    [Theory]
    [InlineData(1.0, 8, 6, false, false)] // one-line calls, a chat template adding more than OpenAI's documented 3 + 3
    [InlineData(1.5, 0, 0, true, false)] // a tokenizer counting 1.5 × o200k
    [InlineData(1.5, 4, 3, true, false)] // both
    [InlineData(1.4, 4, 3, true, false)] // realistic prompts, 1.4 × plus a few tokens per message
    [InlineData(1.4, 4, 3, true, true)] // the same with Redis counters shared by replicas
    public async Task A_hard_budget_accepts_what_fits_and_no_more_when_the_provider_counts_more_than_the_tokenizer(double factor, int perMessage, int perReply, bool realistic, bool redis)
    {
        await using var host = new GatewayHost(s =>
        {
            s.ReservationMargin = 1.5m;
            s.CalibrateReservations = true;
            if (redis && s.Redis is null)
            {
                s.Redis = TestRedis.Address;
                s.RedisPrefix = "test:" + Guid.NewGuid().ToString("N") + ":";
            }
        });
        await host.InitializeAsync();
        var scenario = Scenario.For(realistic, factor, perMessage, perReply);
        var team = "t-" + Guid.NewGuid().ToString("N")[..8];
        await host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = team, period = "day", hard = scenario.Limit, time_zone = "UTC" });
        var (id, key) = await host.CreateKey(new { name = "burst", owner = new { team } });

        async Task<(int, string?)> Call()
        {
            using var response = await host.Proxy("/v1/chat/completions", key, scenario.Body, scenario.Headers);
            await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.Headers.TryGetValues("X-Tollgate-Error-Code", out var code) ? code.Single() : null);
        }

        var accepted = await Scenario.RunAsync(_ => Call());

        Assert.Equal(Scenario.Fits, accepted);
        var records = await host.Records(id);
        Assert.Equal(Scenario.Fits, records.Count);
        Assert.All(records, r => Assert.Equal(scenario.ActualInput, r.Long("input_tokens")));
        Assert.Equal(Scenario.Fits * scenario.CallCost, records.Sum(r => r.Cost));
        Assert.True(records.Sum(r => r.Cost) <= scenario.Limit);
        var budget = (await host.AdminJson(HttpMethod.Get, "/admin/budgets")).EnumerateArray().Single(b => b.GetProperty("subject").GetString() == team);
        Assert.Equal(Scenario.Fits * scenario.CallCost, budget.GetProperty("spent").GetDecimal());
    }

    /// <summary>
    /// One budget scenario: a body and the mock headers that make the provider count its input its own way; a hard
    /// limit that fits exactly <see cref="Fits"/> calls (and half a call more, which fits none).
    /// </summary>
    internal sealed record Scenario(string Body, (string, string)[] Headers, long ActualInput, decimal CallCost)
    {
        public const int Fits = 100;
        public const int Burst = 300;

        public decimal Limit => (Fits + 0.5m) * CallCost;

        /// <summary>Priced as the tests' mock is: 1.00 per million input tokens, 2.00 per million output, 8 output tokens.</summary>
        public static Scenario For(bool realistic, double factor, int perMessage, int perReply)
        {
            var body = $$"""{"model":"mock/echo","max_tokens":8,"messages":{{(realistic ? RealisticMessages : OneLineMessages)}}}""";
            var actual = MockInputCount.Count(JsonDocument.Parse(body).RootElement, factor, perMessage, perReply);
            Assert.True(actual > TokenEstimator.EstimateInput(Encoding.UTF8.GetBytes(body)), "the provider must count more than the gateway estimates");
            var headers = new[]
            {
                ("x-mock-input-factor", factor.ToString(CultureInfo.InvariantCulture)),
                ("x-mock-tokens-per-message", perMessage.ToString(CultureInfo.InvariantCulture)),
                ("x-mock-tokens-per-reply", perReply.ToString(CultureInfo.InvariantCulture)),
                ("x-mock-completion-tokens", "8"),
            };
            return new Scenario(body, headers, actual, ((actual * 1.00m) + (8 * 2.00m)) / 1_000_000m);
        }

        /// <summary>
        /// <see cref="Burst"/> parallel calls, then calls one by one until one is refused (a refusal near the limit is
        /// what a too-large reservation costs; a retry after settlement succeeds). Returns how many were accepted.
        /// </summary>
        public static async Task<int> RunAsync(Func<int, Task<(int Status, string? Code)>> call)
        {
            var burst = await Task.WhenAll(Enumerable.Range(0, Burst).Select(call));
            Assert.All(burst.Where(s => s.Status != 200), s => Assert.Equal((429, "budget_exceeded"), s));
            var accepted = burst.Count(s => s.Status == 200);
            Assert.InRange(accepted, 1, Fits);
            for (var i = 0; i <= Fits; i++)
            {
                var (status, code) = await call(i);
                if (status != 200)
                {
                    Assert.Equal((429, "budget_exceeded"), (status, code));
                    break;
                }

                accepted++;
            }

            return accepted;
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Metering;
using Tollgate.MockProvider;

namespace Tollgate.Tests.Infrastructure;

/// <summary>
/// One budget scenario: a body and the mock headers that make the provider count its input its own way; a hard
/// limit that fits exactly <see cref="Fits"/> calls (and half a call more, which fits none).
/// </summary>
public sealed record BudgetScenario(string Body, (string, string)[] Headers, long ActualInput, decimal CallCost)
{
    /// <summary>A system prompt and a user turn of a few hundred tokens.</summary>
    private static readonly string RealisticMessages = JsonSerializer.Serialize(new object[]
    {
        new { role = "system", content = string.Join(' ', Enumerable.Range(0, 12).Select(i => $"Rule {i}: answer as the billing assistant of a toll road operator, cite the tariff table, never invent prices, and keep every answer under eighty words.")) },
        new { role = "user", content = string.Join(' ', Enumerable.Range(0, 10).Select(i => $"Item {i}: a lorry with {i + 2} axles crossed the Hangzhou bay bridge at {7 + i}:15 on a weekday and again at night; what is the toll, and does the ETC discount apply?")) },
    });

    private const string OneLineMessages = """[{"role":"user","content":"How much is the toll for a car from Shanghai to Suzhou?"}]""";

    public const int Fits = 100;
    public const int Burst = 300;

    public decimal Limit => (Fits + 0.5m) * CallCost;

    /// <summary>Priced as the tests' mock is: 1.00 per million input tokens, 2.00 per million output, 8 output tokens.</summary>
    public static BudgetScenario For(bool realistic, double factor, int perMessage, int perReply)
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
        return new BudgetScenario(body, headers, actual, ((actual * 1.00m) + (8 * 2.00m)) / 1_000_000m);
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

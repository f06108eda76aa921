using BenchmarkDotNet.Attributes;
using Tollgate.Gateway.Routing;

namespace Tollgate.Benchmarks;

/// <summary>
/// The complexity classifier (v6, character n-grams), per prompt: a short hard one, a chat question, and a pasted page
/// with an easy instruction (read at its two ends).
/// </summary>
public class ComplexityBenchmarks
{
    private const string Short = "Prove that there are infinitely many primes of the form 4k+3.";

    private const string Question = "Our checkout service times out when the payment provider is slow. Should we retry the charge, and how do we avoid charging a customer twice?";

    private static readonly string Page = string.Concat(Enumerable.Repeat("The quarterly report lists revenue by region, with notes on the new pricing and the hiring plan. ", 120)) + "\nFix the typos in the text above.";

    [GlobalSetup]
    public void Load() => _ = ComplexityModel.Weights;

    [Benchmark]
    public double ShortPrompt() => ComplexityModel.Weights.Score(Short);

    [Benchmark]
    public double ChatQuestion() => ComplexityModel.Weights.Score(Question);

    [Benchmark]
    public double PastedPage() => ComplexityModel.Weights.Score(Page);
}

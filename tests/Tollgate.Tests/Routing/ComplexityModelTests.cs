using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Routing;
using Tollgate.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Tollgate.Tests.Routing;

/// <summary>
/// The gateway's classifier, v4 (docs/complexity.md): v3 OR a logistic regression over the MiniLM embedding, Chinese
/// prompts by v3 alone, with the frozen weights of <c>complexity-v4.json</c>. Its fresh holdout, holdout4.jsonl, was
/// written by someone else and added after v4 was frozen; it must keep the level measured then.
/// </summary>
public sealed class ComplexityModelTests(ITestOutputHelper output)
{
    private static readonly Lazy<TextEmbedder> Embedder = new(() => new TextEmbedder());

    private static ComplexityModel Model => new(Embedder.Value);

    [Fact]
    public void The_issue_examples_see_through_length()
    {
        Assert.Equal(Complexity.High, Model.Classify("prove there are infinitely many primes of the form 4k+3"));
        Assert.Equal(Complexity.Low, Model.Classify(ComplexityClassifierTests.PastedPage + "\n\nfix the typos"));
        Assert.Equal(Complexity.Low, Model.Classify("Fix the typos in this text:\n\n" + ComplexityClassifierTests.PastedPage));
    }

    [Theory]
    [InlineData("Show that every bounded monotone sequence of real numbers converges.", true)]
    [InlineData("What is the capital of Norway?", false)]
    [InlineData("证明：任意奇数的平方除以8余1。", true)]
    [InlineData("把“谢谢你的帮助”翻译成英文。", false)]
    [InlineData("Beweise, dass die Summe zweier ungerader Zahlen gerade ist, und verallgemeinere das Ergebnis.", true)]
    [InlineData("Übersetze bitte 'guten Appetit' ins Spanische.", false)]
    [InlineData("Demuestra que no existe un número racional cuyo cuadrado sea 3.", true)]
    [InlineData("Traduce al alemán: 'buenas noches'.", false)]
    public void One_example_per_language_each_way(string prompt, bool hard) =>
        Assert.Equal(hard ? Complexity.High : Complexity.Low, Model.Classify(prompt));

    [Fact]
    public void Chinese_is_decided_as_the_lab_did_and_Chinese_prompts_are_judged_by_v3_alone()
    {
        var examples = Labelled("tuning.jsonl", "tuning2.jsonl", "tuning3.jsonl", "holdout.jsonl");
        Assert.Equal(748, examples.Count);
        // The lab gated on the language label; the gateway's rule (a tenth of the letters CJK ideographs) agrees on every prompt.
        Assert.All(examples, e => Assert.Equal(e.Lang == "zh", ComplexityModel.IsChinese(e.Prompt)));
        foreach (var e in examples.Where(e => e.Lang == "zh"))
        {
            Assert.Equal(ComplexityClassifier.Classify(e.Prompt), Model.Classify(e.Prompt));
        }

        Assert.False(ComplexityModel.IsChinese("Translate the name 李 into pinyin and explain its origin in a few sentences."));
        Assert.True(ComplexityModel.IsChinese("这段代码为什么会死锁？\n```python\nlock.acquire()\n```"));
    }

    [Fact]
    public void A_prompt_v3_calls_high_is_high_and_a_blank_one_low()
    {
        foreach (var e in Labelled("tuning.jsonl").Where(e => ComplexityClassifier.Classify(e.Prompt) == Complexity.High))
        {
            Assert.Equal(Complexity.High, Model.Classify(e.Prompt));
        }

        Assert.Equal(Complexity.Low, Model.Classify(""));
        Assert.Equal(Complexity.Low, Model.Classify("  \n "));
    }

    [Fact]
    public void The_weights_file_holds_384_dimensions_and_its_lambda_and_threshold_are_documented()
    {
        var weights = ComplexityModel.Weights;
        Assert.Equal(TextEmbedder.Dimensions, weights.Mean.Count);
        Assert.Equal(TextEmbedder.Dimensions, weights.Scale.Count);
        Assert.Equal(TextEmbedder.Dimensions, weights.Coefficients.Count);
        Assert.All(weights.Scale, s => Assert.True(s > 0));
        Assert.InRange(weights.Threshold, 0.01, 0.99);
        var docs = File.ReadAllText(ProcessRunner.RepositoryFile(Path.Combine("docs", "complexity.md")));
        Assert.Contains($"λ = {weights.Lambda.ToString(CultureInfo.InvariantCulture)}", docs, StringComparison.Ordinal);
        Assert.Contains($"threshold {weights.Threshold.ToString("0.####", CultureInfo.InvariantCulture)}", docs, StringComparison.Ordinal);
        Assert.Contains("complexity-v4.json", docs, StringComparison.Ordinal);
    }

    [Fact]
    public void The_embedding_score_is_deterministic()
    {
        var model = Model;
        foreach (var e in Labelled("tuning.jsonl").Where(e => e.Lang != "zh").Take(20))
        {
            var first = model.EmbeddingScore(e.Prompt);
            Assert.InRange(first, 0, 1);
            Assert.Equal(first, model.EmbeddingScore(new string(e.Prompt.AsSpan())), 9);
        }

        output.WriteLine($"λ {ComplexityModel.Weights.Lambda}, threshold {ComplexityModel.Weights.Threshold}");
    }

    [Fact]
    public void Holdout4_keeps_the_measured_accuracy_and_hard_recall()
    {
        var examples = Labelled("holdout4.jsonl");
        Assert.Equal(240, examples.Count);
        var model = Model;
        var v4 = examples.Select(e => (e.Expected, e.Lang, Predicted: model.Classify(e.Prompt))).ToList();
        var v3 = examples.Select(e => (e.Expected, e.Lang, Predicted: ComplexityClassifier.Classify(e.Prompt))).ToList();
        var overall = Report("v4 on holdout4", v4);
        Report("v3 on holdout4 (comparison)", v3);

        // Measured once, after v4 was frozen (docs/complexity.md): 77.9 % accuracy, 74.8 % precision, 84.2 % recall. The
        // issue's goal (≥ 85 % and ≥ 85 %) is not met; the test guards what was measured, not the goal.
        Assert.True(overall.Accuracy >= 0.77, $"accuracy {overall.Accuracy:P1}");
        Assert.True(overall.Recall >= 0.84, $"recall of hard prompts {overall.Recall:P1}");
    }

    private (double Accuracy, double Recall) Report(string title, List<(Complexity Expected, string Lang, Complexity Predicted)> results)
    {
        (double, double) Line(string label, IReadOnlyCollection<(Complexity Expected, string Lang, Complexity Predicted)> rows)
        {
            var tp = rows.Count(r => r.Expected == Complexity.High && r.Predicted == Complexity.High);
            var fp = rows.Count(r => r.Expected == Complexity.Low && r.Predicted == Complexity.High);
            var fn = rows.Count(r => r.Expected == Complexity.High && r.Predicted == Complexity.Low);
            var accuracy = (double)rows.Count(r => r.Expected == r.Predicted) / rows.Count;
            var precision = tp + fp == 0 ? 1 : (double)tp / (tp + fp);
            var recall = tp + fn == 0 ? 1 : (double)tp / (tp + fn);
            output.WriteLine($"{label}: accuracy {accuracy:P1}, precision {precision:P1}, recall {recall:P1}, n {rows.Count} (TP {tp}, FP {fp}, FN {fn})");
            return (accuracy, recall);
        }

        var overall = Line(title, results);
        foreach (var group in results.GroupBy(r => r.Lang).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Line("  " + group.Key, [.. group]);
        }

        return overall;
    }

    internal static List<(string Prompt, Complexity Expected, string Lang)> Labelled(params string[] files)
    {
        var examples = new List<(string, Complexity, string)>();
        foreach (var file in files)
        {
            var path = ProcessRunner.RepositoryFile(Path.Combine("tests", "Tollgate.Tests", "Routing", "complexity", file));
            foreach (var line in File.ReadLines(path, Encoding.UTF8).Where(l => l.Length > 0))
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                examples.Add((root.GetProperty("prompt").GetString()!, root.GetProperty("label").GetString() == "high" ? Complexity.High : Complexity.Low, root.GetProperty("lang").GetString()!));
            }
        }

        return examples;
    }
}

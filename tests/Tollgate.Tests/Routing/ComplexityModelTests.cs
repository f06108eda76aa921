using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Routing;
using Tollgate.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Tollgate.Tests.Routing;

/// <summary>
/// The gateway's classifier, v6 (docs/complexity.md): a logistic regression over TF-IDF character n-grams with the frozen
/// weights of <c>complexity-v6.json</c>. The gateway must reproduce the training tool's score for every labelled prompt,
/// and the fresh holdout written after the model was frozen must keep the level measured then.
/// </summary>
public sealed class ComplexityModelTests(ITestOutputHelper output)
{
    internal const string PastedPage = """
        Our garden club was started in 1972 by a handful of neighbours who wanted to share seeds and advice. Today the
        club has around one hundred and fifty members, who meet on the first Saturday of every month in the community
        hall. Meetings usualy include a short talk, a seed swap and tea and cake, which many members say is the real
        reason they come.

        In the spring we organise a plant sale to raise money for the local school garden, and in the summer we open
        our members' gardens to the public for a weekend. Visitors are welcome to walk around, ask questions and take
        cuttings home with them. Last year more then eight hundred people visited over the two days.

        New members are always welcome, whether you have a large garden, a balcony or just a few pots on a windowsill.
        Membership costs ten pounds a year and includes our quarterly newsletter.
        """;

    private static readonly ComplexityModel Model = new();

    private static NgramWeights Weights => ComplexityModel.Weights;

    [Fact]
    public void The_issue_examples_see_through_length()
    {
        Assert.Equal(Complexity.High, Model.Classify("prove there are infinitely many primes of the form 4k+3"));
        Assert.Equal(Complexity.Low, Model.Classify(PastedPage + "\n\nfix the typos"));
        Assert.Equal(Complexity.Low, Model.Classify("Fix the typos in this text:\n\n" + PastedPage));
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
    public void The_gateway_reproduces_the_training_tools_score_for_every_labelled_prompt()
    {
        // tools/complexity-lab/lab.py export wrote scikit-learn's score of every prompt of every labelled file.
        using var scores = JsonDocument.Parse(File.ReadAllText(DataFile("v6-scores.json")));
        var checkedPrompts = 0;
        foreach (var file in scores.RootElement.EnumerateObject())
        {
            var expected = file.Value.EnumerateArray().Select(s => s.GetDouble()).ToList();
            var examples = Labelled(file.Name + ".jsonl");
            Assert.Equal(expected.Count, examples.Count);
            for (var i = 0; i < examples.Count; i++)
            {
                Assert.Equal(expected[i], Weights.Score(examples[i].Prompt), 1e-9);
                checkedPrompts++;
            }
        }

        Assert.True(checkedPrompts >= 1468, $"{checkedPrompts} prompts checked");
    }

    [Fact]
    public void Scores_are_deterministic_and_an_empty_or_huge_prompt_is_scored()
    {
        foreach (var example in Labelled("tuning.jsonl"))
        {
            var first = Weights.Score(example.Prompt);
            Assert.InRange(first, 0, 1);
            Assert.Equal(first, Weights.Score(new string(example.Prompt.AsSpan()))); // nothing depends on earlier calls
        }

        // A blank prompt has no n-gram: its score is the intercept's.
        Assert.Equal(1 / (1 + Math.Exp(-Weights.Intercept)), Weights.Score(""), 12);
        Assert.Equal(Weights.Score(""), Weights.Score(" \n\t "), 12);

        // A long prompt is read as its two ends: what lies between them does not count.
        var huge = string.Concat(Enumerable.Repeat(PastedPage, 40)); // about 40 KB
        var task = huge + "\nSummarize this in one sentence.";
        var ends = task[..Weights.Window] + "\n" + task[^Weights.Window..];
        Assert.Equal(Weights.Score(ends), Weights.Score(task), 12);
        Assert.NotEqual(Weights.Score(ends), Weights.Score(task[..Weights.Window] + "\n" + task[^(Weights.Window + 40)..]), 12);
        Assert.Equal(Complexity.Low, Model.Classify(task));
    }

    [Fact]
    public void Case_and_whitespace_do_not_matter_and_unknown_characters_count_nothing()
    {
        var prompt = "Prove that the square root of 2 is irrational.";
        Assert.Equal(Weights.Score(prompt), Weights.Score(prompt.ToUpperInvariant()), 12);
        Assert.Equal(Weights.Score(prompt), Weights.Score("  Prove that\tthe square\n\nroot of 2   is irrational. "), 12);
        // Runes are unknown: a word of them counts only its padding spaces, like any one-letter unknown word.
        Assert.Null(Weights.WeightOf("\u16A0"));
        Assert.Equal(Weights.Score("\u16A0"), Weights.Score("\u16A0\u16A1\u16A2\u16A3"), 12);
        Assert.NotEqual(Weights.Score(""), Weights.Score("\u16A0"), 12);
    }

    [Fact]
    public void Scoring_allocates_nothing_once_loaded()
    {
        var prompts = new[] { "prove there are infinitely many primes of the form 4k+3", PastedPage + "\n\nfix the typos", string.Concat(Enumerable.Repeat(PastedPage, 20)) };
        foreach (var prompt in prompts)
        {
            Weights.Score(prompt);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var prompt in prompts)
        {
            Weights.Score(prompt);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void The_weights_and_how_they_were_chosen_are_documented()
    {
        Assert.True(Weights.Count > 10_000, $"{Weights.Count} n-grams");
        Assert.Equal((1, 4), (Weights.MinN, Weights.MaxN));
        Assert.InRange(Weights.Threshold, 0.05, 0.95);
        var docs = File.ReadAllText(ProcessRunner.RepositoryFile(Path.Combine("docs", "complexity.md")));
        Assert.Contains($"C = {Weights.C.ToString(CultureInfo.InvariantCulture)}", docs, StringComparison.Ordinal);
        Assert.Contains($"threshold {Weights.Threshold.ToString(CultureInfo.InvariantCulture)}", docs, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{Weights.Count:N0} n-grams"), docs, StringComparison.Ordinal);
        // The docs' table of the strongest n-grams is the model's.
        foreach (var (ngram, weight) in Weights.Strongest(high: true, 10).Concat(Weights.Strongest(high: false, 10)))
        {
            Assert.Contains($"`{ngram.Replace(" ", "␣", StringComparison.Ordinal)}` {weight.ToString("+0.00;−0.00", CultureInfo.InvariantCulture)}", docs, StringComparison.Ordinal);
        }

        output.WriteLine($"C {Weights.C}, threshold {Weights.Threshold}, {Weights.Count} n-grams");
    }

    [Fact]
    public void Holdout6_meets_the_goal_as_measured()
    {
        var examples = Labelled("holdout6.jsonl");
        Assert.Equal(240, examples.Count);
        var overall = Report("v6 on holdout6", [.. examples.Select(e => (e.Expected, e.Lang, Model.Classify(e.Prompt)))]);

        // Measured once, after v6 was frozen (docs/complexity.md): 85.8 % accuracy, 82.1 % precision, 91.7 % recall; the
        // issue's goal is accuracy ≥ 85 % and recall of hard prompts ≥ 85 %.
        Assert.True(overall.Accuracy >= 0.85, $"accuracy {overall.Accuracy:P1}");
        Assert.True(overall.Recall >= 0.85, $"recall of hard prompts {overall.Recall:P1}");
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

    private static string DataFile(string file) => ProcessRunner.RepositoryFile(Path.Combine("tests", "Tollgate.Tests", "Routing", "complexity", file));

    internal static List<(string Prompt, Complexity Expected, string Lang)> Labelled(params string[] files)
    {
        var examples = new List<(string, Complexity, string)>();
        foreach (var file in files)
        {
            foreach (var line in File.ReadLines(DataFile(file), Encoding.UTF8).Where(l => l.Length > 0))
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                examples.Add((root.GetProperty("prompt").GetString()!, root.GetProperty("label").GetString() == "high" ? Complexity.High : Complexity.Low, root.GetProperty("lang").GetString()!));
            }
        }

        return examples;
    }
}

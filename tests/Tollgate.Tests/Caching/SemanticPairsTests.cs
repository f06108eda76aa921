using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Caching;
using Tollgate.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Tollgate.Tests.Caching;

/// <summary>
/// The semantic cache against labelled pairs of paraphrases and near-misses (docs/semantic-cache.md): both prompts of a
/// pair are embedded with <see cref="TextEmbedder"/>; the cache would serve the second prompt the first one's answer when
/// their cosine is at least the threshold and, with the guard, <see cref="SemanticGuard"/> finds them compatible.
/// Precision = served "same" pairs / served pairs; recall = served "same" pairs / all "same" pairs. The guard was designed
/// on the tuning set only; the holdout set was added after it was frozen and measured once.
/// </summary>
public sealed class SemanticPairsTests(ITestOutputHelper output)
{
    private static readonly double[] Thresholds = [0.85, 0.90, 0.92, 0.95];
    private static readonly Lazy<TextEmbedder> Embedder = new(() => new TextEmbedder());

    [Fact]
    public void Tuning_set_keeps_the_measured_precision_and_recall()
    {
        var pairs = Load("tuning.jsonl");
        Assert.Equal(120, pairs.Count);

        Report("tuning", pairs);

        // Measured on the set the guard was designed on (docs/semantic-cache.md), so optimistic by construction: at 0.95
        // the guard keeps all 24 paraphrases the threshold lets through and stops all 17 near-misses (58.5 % → 100 %).
        var guarded = Served(pairs, 0.95, guard: true);
        var bare = Served(pairs, 0.95, guard: false);
        Assert.Equal(1.0, Precision(guarded));
        Assert.True(Recall(pairs, guarded) >= 0.44, $"recall {Recall(pairs, guarded):P1}");
        Assert.True(Precision(bare) < 0.60, $"without the guard {Precision(bare):P1}");
    }

    [Fact]
    public void Holdout_set_keeps_the_measured_precision()
    {
        var pairs = Load("holdout.jsonl");
        Assert.True(pairs.Count >= 200, $"holdout has {pairs.Count} pairs");

        Report("holdout", pairs);

        // Written before the guard was frozen, added after, measured once (docs/semantic-cache.md): at 0.95, 37 pairs served,
        // 35 of them paraphrases (35/37 = 94.6 %; 45.5 % without the guard), recall 29.9 % with or without it. The two false hits
        // ("most"/"least expensive", 文件/文件夹) are known and left in: changing the guard now would need a new holdout.
        var guarded = Served(pairs, 0.95, guard: true);
        var bare = Served(pairs, 0.95, guard: false);
        output.WriteLine($"holdout at 0.95 with the guard: precision {Precision(guarded):P1}, recall {Recall(pairs, guarded):P1}");
        Assert.True(Precision(guarded) >= 0.945, $"precision {Precision(guarded):P1}");
        Assert.True(Recall(pairs, guarded) >= 0.299, $"recall {Recall(pairs, guarded):P1}");
        Assert.True(Precision(bare) < 0.46, $"without the guard {Precision(bare):P1}");
    }

    private static double Precision(List<Pair> served) => served.Count == 0 ? 1 : (double)served.Count(p => p.Same) / served.Count;

    private static double Recall(List<Pair> pairs, List<Pair> served) => (double)served.Count(p => p.Same) / pairs.Count(p => p.Same);

    private static List<Pair> Served(List<Pair> pairs, double threshold, bool guard) =>
        [.. pairs.Where(p => p.Cosine >= threshold && (!guard || p.Conflict is null))];

    /// <summary>Prints the tables of docs/semantic-cache.md (markdown) and the pairs each side gets wrong.</summary>
    private void Report(string set, List<Pair> pairs)
    {
        var text = new StringBuilder();
        var same = pairs.Count(p => p.Same);
        text.AppendLine(CultureInfo.InvariantCulture, $"### {set}: {pairs.Count} pairs ({same} same, {pairs.Count - same} different)");
        text.AppendLine();
        text.AppendLine("| threshold | guard | served | precision | recall | false hits by kind |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var threshold in Thresholds)
        {
            foreach (var guard in new[] { false, true })
            {
                var served = Served(pairs, threshold, guard);
                var falseHits = served.Where(p => !p.Same).GroupBy(p => p.Kind).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => $"{g.Key} {g.Count()}");
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {threshold:0.00} | {(guard ? "with" : "without")} | {served.Count} | {Precision(served):P1} | {Recall(pairs, served):P1} | {Cell(falseHits)} |");
            }
        }

        text.AppendLine();
        text.AppendLine("| language | pairs (same) | served at 0.95 without / with guard | precision without / with | recall without / with |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var group in pairs.GroupBy(p => p.Lang).OrderBy(g => g.Key == "en" ? "" : g.Key, StringComparer.Ordinal))
        {
            var list = group.ToList();
            var (bare, guarded) = (Served(list, 0.95, false), Served(list, 0.95, true));
            var recall = list.Exists(p => p.Same)
                ? $"{Recall(list, bare):P1} / {Recall(list, guarded):P1}"
                : "—";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key} | {list.Count} ({list.Count(p => p.Same)}) | {bare.Count} / {guarded.Count} | {Precision(bare):P1} / {Precision(guarded):P1} | {recall} |");
        }

        text.AppendLine();
        text.AppendLine("| kind | pairs | cosine ≥ 0.95 | blocked by the guard (all pairs) | reasons |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var group in pairs.GroupBy(p => p.Kind).OrderBy(g => g.Key == "paraphrase" ? "" : g.Key, StringComparer.Ordinal))
        {
            var reasons = group.Where(p => p.Conflict is not null).GroupBy(p => p.Conflict!).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key} {g.Count()}");
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key} | {group.Count()} | {group.Count(p => p.Cosine >= 0.95)} | {group.Count(p => p.Conflict is not null)} | {Cell(reasons)} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"cosine of same pairs: median {Median(pairs.Where(p => p.Same))}, of different pairs: median {Median(pairs.Where(p => !p.Same))}");
        foreach (var pair in pairs.Where(p => !p.Same && p.Conflict is null).OrderByDescending(p => p.Cosine))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  not caught ({pair.Kind}, {pair.Lang}, cos {pair.Cosine:F3}): {pair.A} | {pair.B}");
        }

        foreach (var pair in pairs.Where(p => p.Same && p.Conflict is not null).OrderByDescending(p => p.Cosine))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  paraphrase blocked ({pair.Conflict}, {pair.Lang}, cos {pair.Cosine:F3}): {pair.A} | {pair.B}");
        }

        output.WriteLine(text.ToString());
    }

    private static string Cell(IEnumerable<string> parts)
    {
        var joined = string.Join(", ", parts);
        return joined.Length == 0 ? "—" : joined;
    }

    private static string Median(IEnumerable<Pair> pairs)
    {
        var sorted = pairs.Select(p => p.Cosine).Order().ToArray();
        return sorted.Length == 0 ? "—" : sorted[sorted.Length / 2].ToString("F3", CultureInfo.InvariantCulture);
    }

    private static List<Pair> Load(string file)
    {
        var path = ProcessRunner.RepositoryFile(Path.Combine("tests", "Tollgate.Tests", "Caching", "semantic-pairs", file));
        var pairs = new List<Pair>();
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var a = root.GetProperty("a").GetString()!;
            var b = root.GetProperty("b").GetString()!;
            var same = root.GetProperty("label").GetString() switch
            {
                "same" => true,
                "different" => false,
                var other => throw new InvalidDataException($"{file}: label {other}"),
            };
            var cosine = Embedder.Value.Embed(a).Zip(Embedder.Value.Embed(b), (x, y) => (double)x * y).Sum();
            pairs.Add(new Pair(a, b, same, root.GetProperty("kind").GetString()!, root.GetProperty("lang").GetString()!, cosine, SemanticGuard.Conflict(a, b)));
        }

        return pairs;
    }

    private sealed record Pair(string A, string B, bool Same, string Kind, string Lang, double Cosine, string? Conflict);
}

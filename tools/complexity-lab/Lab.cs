using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Tollgate.Gateway.Routing;

namespace Tollgate.ComplexityLab;

/// <summary>A scoring model over prompt indices: scores for the test indices after training on the train indices, for every point of its grid.</summary>
internal interface ICandidate
{
    string Name { get; }

    string[] Grid { get; }

    /// <summary>false: the threshold is fixed (v3 at 0.4), nothing is chosen by inner CV.</summary>
    double? FixedThreshold => null;

    double[][] Scores(int[] train, int[] test);
}

internal sealed class Features
{
    public required double[][] Lexical { get; init; }
    public required double[] V3Logit { get; init; }
    public required double[] V3Score { get; init; }
    public required bool[] Y { get; init; }

    public static Features Of(List<Example> data)
    {
        var lex = new double[data.Count][];
        var logit = new double[data.Count];
        var score = new double[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            lex[i] = new double[ComplexityClassifier.FeatureNames.Length];
            ComplexityClassifier.Features(data[i].Prompt, lex[i]);
            score[i] = ComplexityClassifier.Score(data[i].Prompt);
            logit[i] = Math.Log(score[i] / (1 - score[i]));
        }

        return new Features { Lexical = lex, V3Logit = logit, V3Score = score, Y = [.. data.Select(e => e.High)] };
    }
}

/// <summary>
/// A fixed rule over v3 and a learned candidate, nothing fitted on v3's own (contaminated) tuning data: <c>or</c> = High
/// when v3 or the inner candidate says High; <c>gate-zh</c> = Chinese prompts by v3 (the MiniLM vocabulary lacks most
/// CJK characters), the others by the inner candidate; <c>gate-zh-or</c> = Chinese by v3, the others by v3 or the inner one.
/// </summary>
internal sealed class V3Rule(string name, ICandidate inner, double[] v3Score, string rule, List<Example> data) : ICandidate
{
    public string Name => name;
    public string[] Grid => inner.Grid;
    public ICandidate Inner => inner;
    public double[][] Scores(int[] train, int[] test) => inner.Scores(train, test);

    public bool Combine(int i, bool innerPred)
    {
        var v3 = v3Score[i] >= ComplexityClassifier.Threshold;
        var zh = data[i].Lang == "zh"; // in production: the share of CJK characters
        return rule switch
        {
            "or" => v3 || innerPred,
            "gate-zh" => zh ? v3 : innerPred,
            "gate-zh-or" => zh ? v3 : v3 || innerPred,
            _ => throw new ArgumentException(rule),
        };
    }
}

internal sealed class FixedScore(string name, double[] score, double? threshold) : ICandidate
{
    public string Name => name;
    public string[] Grid => ["-"];
    public double? FixedThreshold => threshold;
    public double[][] Scores(int[] train, int[] test) => [[.. test.Select(i => score[i])]];
}

/// <summary>Logistic regression over a feature matrix; grid = penalties (descending, warm-started).</summary>
internal sealed class LrCandidate(string name, double[][] x, bool[] y, (string Label, double[] Penalty)[] grid) : ICandidate
{
    public string Name => name;
    public string[] Grid => [.. grid.Select(g => g.Label)];

    public double[][] Scores(int[] train, int[] test)
    {
        var xs = train.Select(i => x[i]).ToArray();
        var ys = train.Select(i => y[i]).ToArray();
        var result = new double[grid.Length][];
        LogReg? warm = null;
        for (var g = 0; g < grid.Length; g++)
        {
            warm = LogReg.Fit(xs, ys, grid[g].Penalty, warm);
            result[g] = [.. test.Select(i => warm.Prob(x[i]))];
        }

        return result;
    }

    /// <summary>The model at grid point <paramref name="g"/> trained on <paramref name="train"/>, warm-started down the grid as <see cref="Scores"/> does.</summary>
    public LogReg Fit(int[] train, int g)
    {
        var xs = train.Select(i => x[i]).ToArray();
        var ys = train.Select(i => y[i]).ToArray();
        LogReg? warm = null;
        for (var k = 0; k <= g; k++)
        {
            warm = LogReg.Fit(xs, ys, grid[k].Penalty, warm);
        }

        return warm!;
    }

    public double[] PenaltyAt(int g) => grid[g].Penalty;

    /// <summary>Penalty grids: λ for the first <paramref name="penalized"/> columns, λ·ratio for the rest up to <paramref name="reduced"/>, 0 after.</summary>
    public static (string, double[])[] Penalties(int penalized, int reduced, int free, double[] lambdas, double[] ratios)
    {
        var list = new List<(string, double[])>();
        foreach (var ratio in ratios)
        {
            foreach (var l in lambdas.OrderDescending())
            {
                var p = new double[penalized + reduced + free];
                for (var j = 0; j < penalized; j++)
                {
                    p[j] = l;
                }

                for (var j = penalized; j < penalized + reduced; j++)
                {
                    p[j] = l * ratio;
                }

                list.Add((reduced > 0 && ratios.Length > 1 ? $"λ={l:G3},lex×{ratio:G2}" : $"λ={l:G3}", p));
            }
        }

        return [.. list];
    }
}

/// <summary>Similarity-weighted kNN over normalized embeddings (cosine = dot); score = weighted share of hard neighbours.</summary>
internal sealed class KnnCandidate(string name, float[][] e, bool[] y, int[] ks) : ICandidate
{
    public string Name => name;
    public string[] Grid => [.. ks.Select(k => $"k={k}")];

    public double[][] Scores(int[] train, int[] test)
    {
        var result = ks.Select(_ => new double[test.Length]).ToArray();
        for (var t = 0; t < test.Length; t++)
        {
            var sims = train.Select(i => (sim: (double)System.Numerics.Tensors.TensorPrimitives.Dot<float>(e[test[t]], e[i]), high: y[i])).OrderByDescending(s => s.sim).ToArray();
            for (var g = 0; g < ks.Length; g++)
            {
                double num = 0, den = 0;
                foreach (var (sim, high) in sims.Take(ks[g]))
                {
                    var w = Math.Max(sim, 0) + 1e-6;
                    den += w;
                    num += high ? w : 0;
                }

                result[g][t] = num / den;
            }
        }

        return result;
    }
}

/// <summary>Nearest centroid: cosine to the hard centroid minus cosine to the easy one.</summary>
internal sealed class CentroidCandidate(string name, float[][] e, bool[] y) : ICandidate
{
    public string Name => name;
    public string[] Grid => ["-"];

    public double[][] Scores(int[] train, int[] test)
    {
        var hi = new double[Embedder.Dim];
        var lo = new double[Embedder.Dim];
        foreach (var i in train)
        {
            var c = y[i] ? hi : lo;
            for (var d = 0; d < Embedder.Dim; d++)
            {
                c[d] += e[i][d];
            }
        }

        Normalize(hi);
        Normalize(lo);
        return [[.. test.Select(i => Enumerable.Range(0, Embedder.Dim).Sum(d => e[i][d] * (hi[d] - lo[d])))]];
    }

    private static void Normalize(double[] v)
    {
        var n = Math.Sqrt(v.Sum(a => a * a));
        for (var d = 0; d < v.Length; d++)
        {
            v[d] /= n;
        }
    }
}

internal static class Eval
{
    /// <summary>A missed hard prompt costs twice an easy prompt sent High (docs/complexity.md: the asymmetry).</summary>
    public const double MissCost = 2;

    public const int InnerFolds = 5;

    /// <summary>Stratified by language and label: each stratum shuffled with the seed and dealt round-robin to the folds.</summary>
    public static int[][] Folds(IReadOnlyList<int> indices, List<Example> data, int k, int seed)
    {
        var rng = new Random(seed);
        var folds = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        var next = 0;
        foreach (var stratum in indices.GroupBy(i => (data[i].Lang, data[i].High)).OrderBy(g => g.Key.Lang, StringComparer.Ordinal).ThenBy(g => g.Key.High))
        {
            var items = stratum.ToArray();
            rng.Shuffle(items);
            foreach (var i in items)
            {
                folds[next].Add(i);
                next = (next + 1) % k;
            }
        }

        return [.. folds.Select(f => f.ToArray())];
    }

    /// <summary>The threshold with the least cost 2·FN + FP on the given scores (the middle of the best run of cuts).</summary>
    public static (double Threshold, double Cost) BestThreshold(double[] scores, bool[] ys)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        // Cut c: everything at order[c..] is High. Start with all High: FN = 0, FP = #low.
        double fn = 0, fp = ys.Count(v => !v);
        var best = double.MaxValue;
        var bestCuts = new List<int>();
        for (var c = 0; c <= order.Length; c++)
        {
            if (c > 0 && c < order.Length && scores[order[c]] == scores[order[c - 1]])
            {
                // cannot cut between equal scores
            }
            else
            {
                var cost = (MissCost * fn) + fp;
                if (cost < best - 1e-9)
                {
                    best = cost;
                    bestCuts.Clear();
                }

                if (Math.Abs(cost - best) < 1e-9)
                {
                    bestCuts.Add(c);
                }
            }

            if (c < order.Length)
            {
                if (ys[order[c]])
                {
                    fn++;
                }
                else
                {
                    fp--;
                }
            }
        }

        var cut = bestCuts[bestCuts.Count / 2];
        var threshold = cut == 0 ? scores[order[0]] - 1e-9
            : cut == order.Length ? scores[order[^1]] + 1e-9
            : (scores[order[cut - 1]] + scores[order[cut]]) / 2;
        return (threshold, best);
    }

    /// <summary>
    /// Chooses the grid point and threshold by inner stratified CV on <paramref name="train"/>, refits on all of it and
    /// predicts <paramref name="test"/>.
    /// </summary>
    public static (bool[] Pred, string Chosen, double Threshold) FitPredict(ICandidate c, int[] train, int[] test, List<Example> data, bool[] y, int seed) =>
        FitPredictScores(c, train, test, data, y, seed) is var r ? (r.Pred, r.Chosen, r.Threshold) : default;

    public static (bool[] Pred, string Chosen, double Threshold, double[] Scores) FitPredictScores(ICandidate c, int[] train, int[] test, List<Example> data, bool[] y, int seed)
    {
        if (c is V3Rule rule)
        {
            var r = FitPredictScores(rule.Inner, train, test, data, y, seed);
            return ([.. r.Pred.Select((p, t) => rule.Combine(test[t], p))], r.Chosen, r.Threshold, r.Scores);
        }

        if (c.FixedThreshold is { } fixedT)
        {
            var s = c.Scores(train, test)[0];
            return ([.. s.Select(v => v >= fixedT)], "fixed", fixedT, s);
        }

        var (g, threshold, _) = Choose(c, train, data, y, seed);
        var final = c.Scores(train, test)[g];
        return ([.. final.Select(v => v >= threshold)], c.Grid[g], threshold, final);
    }

    /// <summary>
    /// The grid point and threshold chosen by inner stratified CV on <paramref name="train"/> (folds seeded with
    /// <paramref name="seed"/> + 1): the least cost 2·FN + FP of the out-of-fold scores, ties to the stronger penalty.
    /// Also returns the out-of-fold scores of the chosen point, in the order of <paramref name="train"/>.
    /// </summary>
    public static (int Grid, double Threshold, double[] OutOfFold) Choose(ICandidate c, int[] train, List<Example> data, bool[] y, int seed)
    {
        var grid = c.Grid.Length;
        var oof = new double[grid][];
        for (var g = 0; g < grid; g++)
        {
            oof[g] = new double[train.Length];
        }

        var position = new Dictionary<int, int>();
        for (var p = 0; p < train.Length; p++)
        {
            position[train[p]] = p;
        }

        foreach (var fold in Folds(train, data, InnerFolds, seed + 1))
        {
            var inSet = fold.ToHashSet();
            var innerTrain = train.Where(i => !inSet.Contains(i)).ToArray();
            var scores = c.Scores(innerTrain, fold);
            for (var g = 0; g < grid; g++)
            {
                for (var t = 0; t < fold.Length; t++)
                {
                    oof[g][position[fold[t]]] = scores[g][t];
                }
            }
        }

        var ys = train.Select(i => y[i]).ToArray();
        var best = Enumerable.Range(0, grid).Select(g => (g, r: BestThreshold(oof[g], ys)))
            .OrderBy(x => x.r.Cost).ThenBy(x => x.g).First(); // ties: the earlier grid point (the stronger penalty)
        return (best.g, best.r.Threshold, oof[best.g]);
    }
}

internal sealed class Confusion
{
    public int Tp, Fp, Tn, Fn;

    public void Add(bool pred, bool truth)
    {
        if (pred && truth) Tp++;
        else if (pred) Fp++;
        else if (truth) Fn++;
        else Tn++;
    }

    public int N => Tp + Fp + Tn + Fn;
    public double Acc => (Tp + Tn) / (double)N;
    public double Prec => Tp + Fp == 0 ? double.NaN : Tp / (double)(Tp + Fp);
    public double Rec => Tp / (double)(Tp + Fn);
    public override string ToString() => $"{100 * Acc,5:F1} {100 * Prec,5:F1} {100 * Rec,5:F1}";
}

internal sealed class Report(List<Example> data)
{
    private readonly Dictionary<string, Confusion> _c = [];

    public void Add(int i, bool pred)
    {
        foreach (var key in (string[])["all", data[i].Lang])
        {
            if (!_c.TryGetValue(key, out var c))
            {
                _c[key] = c = new Confusion();
            }

            c.Add(pred, data[i].High);
        }
    }

    public Confusion All => _c["all"];

    public string Row() => string.Join(" | ", Data.Langs.Prepend("all").Select(k => _c.TryGetValue(k, out var c) ? c.ToString() : "  -  "));

    public static string Header => "acc/prec/rec (%):  all               | en                | zh                | de                | es";
}

internal static class EmbeddingCache
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "cache");

    public static float[][] Get(List<Example> data, Truncation t, bool cjkSplit, Func<Embedder> embedder)
    {
        Directory.CreateDirectory(Dir);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\u0001", data.Select(e => e.Prompt)))))[..16];
        var path = Path.Combine(Dir, $"{t.Name}{(cjkSplit ? "" : "-rawcjk")}-{key}.bin");
        if (File.Exists(path))
        {
            using var r = new BinaryReader(File.OpenRead(path));
            var n = r.ReadInt32();
            var d = r.ReadInt32();
            return [.. Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => r.ReadSingle()).ToArray())];
        }

        var sw = Stopwatch.StartNew();
        var e = embedder();
        var result = data.Select(x => e.Embed(Embedder.Truncate(e.Pieces(cjkSplit ? Cjk.Split(x.Prompt) : x.Prompt), t))).ToArray();
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write(result.Length);
            w.Write(Embedder.Dim);
            foreach (var v in result)
            {
                foreach (var f in v)
                {
                    w.Write(f);
                }
            }
        }

        Console.Error.WriteLine($"embedded {data.Count} prompts ({t.Name}) in {sw.Elapsed.TotalSeconds:F0} s -> {path}");
        return result;
    }
}

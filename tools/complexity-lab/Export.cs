using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Routing;

namespace Tollgate.ComplexityLab;

/// <summary>
/// <c>export</c>: trains v4's embedding part on all labelled prompts and writes the gateway's weights file;
/// <c>measure</c>: the gateway's v4 (and v3) on one labelled file, with per-prompt latency.
/// </summary>
internal static class Export
{
    public const int Seed = 42;

    private static readonly double[] Lambdas = [0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000];

    /// <summary>
    /// Embeds the 748 prompts with the gateway's own <see cref="TextEmbedder"/> (<see cref="ComplexityModel.Head"/> +
    /// <see cref="ComplexityModel.Tail"/> word pieces), chooses λ and the threshold by the lab's inner stratified 5-fold
    /// CV (least 2·FN + FP, seed 42), refits on all 748 and writes mean, scale, weights, bias and threshold as JSON.
    /// </summary>
    public static void Run(string repo, List<Example> data, string outPath)
    {
        var zhMismatch = data.Where(x => ComplexityModel.IsChinese(x.Prompt) != (x.Lang == "zh")).ToList();
        Console.WriteLine($"IsChinese agrees with the language label on {data.Count - zhMismatch.Count} of {data.Count} prompts");
        foreach (var m in zhMismatch)
        {
            Console.WriteLine($"  disagrees ({m.Lang}): {m.Prompt[..Math.Min(80, m.Prompt.Length)].ReplaceLineEndings(" ")}");
        }

        if (zhMismatch.Count > 0)
        {
            throw new InvalidOperationException("ComplexityModel.IsChinese must reproduce the lab's zh gate (the language label).");
        }

        var sw = Stopwatch.StartNew();
        using var embedder = new TextEmbedder();
        var e = data.Select(x => embedder.Embed(x.Prompt, ComplexityModel.Head, ComplexityModel.Tail)).ToArray();
        Console.WriteLine($"embedded {data.Count} prompts with TextEmbedder.Embed(text, {ComplexityModel.Head}, {ComplexityModel.Tail}) in {sw.Elapsed.TotalSeconds:F0} s");

        // The lab's own embedding path (Embedder + Cjk.Split, ht64) on a sample: the two must agree.
        using (var lab = new Embedder(1))
        {
            var minCos = double.MaxValue;
            foreach (var i in Enumerable.Range(0, data.Count).Where(i => i % 25 == 0))
            {
                var v = lab.Embed(Embedder.Truncate(lab.Pieces(Cjk.Split(data[i].Prompt)), new Truncation("ht64", 32, 32)));
                minCos = Math.Min(minCos, System.Numerics.Tensors.TensorPrimitives.CosineSimilarity<float>(v, e[i]));
            }

            Console.WriteLine($"cosine TextEmbedder vs the lab's Embedder (ht64), every 25th prompt: min {minCos:F6}");
        }

        var y = data.Select(x => x.High).ToArray();
        var ed = e.Select(v => v.Select(x => (double)x).ToArray()).ToArray();
        var cand = new LrCandidate("emb-lr", ed, y, LrCandidate.Penalties(Embedder.Dim, 0, 0, Lambdas, [1]));
        var all = Enumerable.Range(0, data.Count).ToArray();
        var (g, threshold, oof) = Eval.Choose(cand, all, data, y, Seed);
        var lambda = cand.PenaltyAt(g)[0];
        var model = cand.Fit(all, g);
        Console.WriteLine($"inner CV (5 folds, seed {Seed + 1}) chose {cand.Grid[g]}, threshold {threshold:F4}");

        // Out-of-fold figures at the chosen point (emb-lr alone fair; gate-zh-or uses v3 on its own tuning prompts: optimistic).
        var embOof = new Confusion();
        var gateOof = new Confusion();
        var train = new Confusion();
        for (var i = 0; i < data.Count; i++)
        {
            var v3 = ComplexityClassifier.Score(data[i].Prompt) >= ComplexityClassifier.Threshold;
            var zh = ComplexityModel.IsChinese(data[i].Prompt);
            embOof.Add(oof[i] >= threshold, y[i]);
            gateOof.Add(v3 || (!zh && oof[i] >= threshold), y[i]);
            train.Add(v3 || (!zh && model.Prob(ed[i]) >= threshold), y[i]);
        }

        Console.WriteLine($"out-of-fold emb-lr (acc/prec/rec %): {embOof}; gate-zh-or: {gateOof} (v3 part tuned on 540 of these); v4 on its training prompts: {train}");

        var json = new JsonObject
        {
            ["model"] = "complexity v4, embedding part: L2 logistic regression over all-MiniLM-L6-v2 (TextEmbedder.Embed(text, 32, 32))",
            ["generated_by"] = "dotnet tools/complexity-lab/bin/Release/net10.0/Tollgate.ComplexityLab.dll export",
            ["trained_on"] = $"{data.Count} prompts: tests/Tollgate.Tests/Routing/complexity/tuning.jsonl, tuning2.jsonl, tuning3.jsonl, holdout.jsonl",
            ["selection"] = $"lambda and threshold by stratified 5-fold inner CV (seed {Seed + 1}) over lambda {string.Join(", ", Lambdas.Select(l => l.ToString(CultureInfo.InvariantCulture)))}, least 2*FN + FP",
            ["score"] = "logit = bias + sum_j weights[j] * (x[j] - mean[j]) / scale[j]; High when 1/(1+exp(-logit)) >= threshold",
            ["head"] = ComplexityModel.Head,
            ["tail"] = ComplexityModel.Tail,
            ["lambda"] = lambda,
            ["threshold"] = Math.Round(threshold, 6),
            ["bias"] = model.B,
            ["inner_cv_out_of_fold"] = new JsonObject
            {
                ["emb_lr"] = Figures(embOof),
                ["gate_zh_or_optimistic"] = Figures(gateOof),
            },
            ["mean"] = Numbers(model.Mean),
            ["scale"] = Numbers(model.Scale),
            ["weights"] = Numbers(model.W),
        };
        File.WriteAllText(outPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).Replace("],\"", "],\n\"", StringComparison.Ordinal).Replace(",\"mean\"", ",\n\"mean\"", StringComparison.Ordinal) + "\n");
        Console.WriteLine($"wrote {Path.GetRelativePath(repo, outPath)}");
    }

    /// <summary>v4 (the gateway's <see cref="ComplexityModel"/>) and v3 on one labelled JSONL file, then per-prompt latency.</summary>
    public static void Measure(string repo, string file, int rounds)
    {
        var path = File.Exists(file) ? file : Path.Combine(Data.Dir(repo), file);
        var examples = File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            var r = doc.RootElement;
            return new Example(r.GetProperty("prompt").GetString()!, r.GetProperty("label").GetString() == "high", r.GetProperty("lang").GetString()!, Path.GetFileNameWithoutExtension(path));
        }).ToList();
        using var embedder = new TextEmbedder();
        var v4 = new ComplexityModel(embedder);
        var sw = Stopwatch.StartNew();
        embedder.Warm();
        Console.WriteLine($"{Path.GetFileName(path)}: {examples.Count} prompts; model loaded in {sw.ElapsedMilliseconds} ms; weights λ {ComplexityModel.Weights.Lambda}, threshold {ComplexityModel.Weights.Threshold}");

        var r4 = new Report(examples);
        var r3 = new Report(examples);
        var misses = new List<string>();
        for (var i = 0; i < examples.Count; i++)
        {
            var ex = examples[i];
            var p4 = v4.Classify(ex.Prompt) == Complexity.High;
            var p3 = ComplexityClassifier.Classify(ex.Prompt) == Complexity.High;
            r4.Add(i, p4);
            r3.Add(i, p3);
            if (p4 != ex.High)
            {
                var emb = ComplexityModel.IsChinese(ex.Prompt) ? double.NaN : v4.EmbeddingScore(ex.Prompt);
                misses.Add(FormattableString.Invariant($"  miss ({ex.Lang}, {(ex.High ? "hard" : "easy")}, v3 {ComplexityClassifier.Score(ex.Prompt):F2}, emb {emb:F2}): {ex.Prompt[..Math.Min(110, ex.Prompt.Length)].ReplaceLineEndings(" ")}"));
            }
        }

        Console.WriteLine(new string(' ', 15) + Report.Header);
        Console.WriteLine($"{"v4",-14} {r4.Row()}");
        Console.WriteLine($"{"v3",-14} {r3.Row()}");
        Console.WriteLine($"v4 confusion: TP {r4.All.Tp}, FP {r4.All.Fp}, FN {r4.All.Fn}, TN {r4.All.Tn}; v3: TP {r3.All.Tp}, FP {r3.All.Fp}, FN {r3.All.Fn}, TN {r3.All.Tn}");
        foreach (var m in misses)
        {
            Console.WriteLine(m);
        }

        // Latency, one thread, model loaded and warmed by the pass above: every prompt `rounds` times.
        var classify = new List<double>();
        var full = new List<double>();
        var v3Only = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var ex in examples)
            {
                var t0 = Stopwatch.GetTimestamp();
                v4.Classify(ex.Prompt);
                var t1 = Stopwatch.GetTimestamp();
                _ = ComplexityClassifier.Score(ex.Prompt) >= ComplexityClassifier.Threshold | v4.EmbeddingScore(ex.Prompt) >= 0.5;
                var t2 = Stopwatch.GetTimestamp();
                ComplexityClassifier.Score(ex.Prompt);
                var t3 = Stopwatch.GetTimestamp();
                classify.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                full.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
                v3Only.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
            }
        }

        var embedded = examples.Count(ex => ComplexityClassifier.Score(ex.Prompt) < ComplexityClassifier.Threshold && !ComplexityModel.IsChinese(ex.Prompt) && !string.IsNullOrWhiteSpace(ex.Prompt));
        Console.WriteLine($"latency per prompt, 1 thread, {rounds} round(s) × {examples.Count} prompts (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}):");
        Console.WriteLine($"  v4 Classify (embeds {embedded} of {examples.Count}: v3 Low, not Chinese): {Stats(classify)}");
        Console.WriteLine($"  v3 + embedding always:                              {Stats(full)}");
        Console.WriteLine($"  v3 alone:                                           mean {v3Only.Average() * 1000:F1} µs");
    }

    private static string Stats(List<double> ms)
    {
        var s = ms.Order().ToArray();
        return FormattableString.Invariant($"mean {ms.Average():F2} ms, p50 {s[s.Length / 2]:F2} ms, p95 {s[(int)(s.Length * 0.95)]:F2} ms, max {s[^1]:F2} ms");
    }

    private static JsonObject Figures(Confusion c) => new()
    {
        ["accuracy"] = Math.Round(c.Acc, 4),
        ["precision"] = Math.Round(c.Prec, 4),
        ["recall"] = Math.Round(c.Rec, 4),
        ["n"] = c.N,
    };

    private static JsonArray Numbers(IEnumerable<double> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v)!)]);
}

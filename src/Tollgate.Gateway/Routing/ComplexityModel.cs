using System.Globalization;
using System.Text.Json;
using Tollgate.Gateway.Caching;

namespace Tollgate.Gateway.Routing;

/// <summary>
/// The gateway's prompt-complexity classifier, v4 (docs/complexity.md): the lexical v3 model
/// (<see cref="ComplexityClassifier"/>) OR a logistic regression over the prompt's all-MiniLM-L6-v2 embedding
/// (<see cref="TextEmbedder"/>, its first <see cref="Head"/> and last <see cref="Tail"/> word pieces). Chinese prompts
/// (<see cref="IsChinese"/>) are judged by v3 alone: the model's vocabulary lacks most Chinese characters. The weights
/// are frozen in <c>complexity-v4.json</c> (an embedded resource written by <c>tools/complexity-lab export</c>); the
/// embedding model is loaded on first use or by <see cref="Warm"/>, so a gateway without a <c>complexity</c> rule never
/// loads it.
/// </summary>
internal sealed class ComplexityModel(TextEmbedder embedder)
{
    /// <summary>Word pieces embedded from the start of a prompt longer than <see cref="Head"/> + <see cref="Tail"/>.</summary>
    public const int Head = 32;

    /// <summary>Word pieces embedded from the end of a prompt longer than <see cref="Head"/> + <see cref="Tail"/>.</summary>
    public const int Tail = 32;

    /// <summary>A prompt is Chinese when at least this share of its letters are CJK ideographs (<see cref="IsChinese"/>).</summary>
    public const double ChineseShare = 0.1;

    /// <summary>The embedded resource holding the frozen weights.</summary>
    public const string WeightsResource = "Tollgate.Routing.complexity-v4.json";

    private static readonly Lazy<EmbeddingWeights> Frozen = new(() => EmbeddingWeights.Load(WeightsResource), LazyThreadSafetyMode.ExecutionAndPublication);

    private int _warming;
    private long _classifications;

    /// <summary>The frozen weights of the embedding part.</summary>
    public static EmbeddingWeights Weights => Frozen.Value;

    /// <summary>How many prompts this instance has classified (tests check that a call whose rules do not ask runs none).</summary>
    public long Classifications => Interlocked.Read(ref _classifications);

    /// <summary>Loads the embedding model and the weights in the background, once (when a route with a complexity rule is loaded).</summary>
    public void Warm()
    {
        if (Interlocked.Exchange(ref _warming, 1) == 0)
        {
            _ = Task.Run(() =>
            {
                _ = Frozen.Value;
                embedder.Warm();
            });
        }
    }

    /// <summary>
    /// The complexity of a prompt (the last user turn's text): High when v3 says High; else, for a prompt that is not
    /// Chinese, High when the embedding part says High. The embedding is computed only when v3 says Low (the OR is
    /// decided without it otherwise) and the prompt is neither Chinese nor blank.
    /// </summary>
    public Complexity Classify(string prompt)
    {
        Interlocked.Increment(ref _classifications);
        if (ComplexityClassifier.Score(prompt) >= ComplexityClassifier.Threshold)
        {
            return Complexity.High;
        }

        if (IsChinese(prompt) || string.IsNullOrWhiteSpace(prompt))
        {
            return Complexity.Low;
        }

        return EmbeddingScore(prompt) >= Weights.Threshold ? Complexity.High : Complexity.Low;
    }

    /// <summary>The embedding part's logistic score, 0 to 1; at or above <see cref="EmbeddingWeights.Threshold"/> it says High.</summary>
    public double EmbeddingScore(string prompt) => Weights.Score(embedder.Embed(prompt, Head, Tail));

    /// <summary>
    /// Whether a prompt is Chinese: at least <see cref="ChineseShare"/> of its letters (<see cref="char.IsLetter(char)"/>)
    /// are CJK ideographs (U+4E00–9FFF, U+3400–4DBF, U+F900–FAFF). It agrees with the language label of all 748
    /// labelled prompts the model was made with (Chinese ones have 14–100 %, the code-heavy ones the least; the others 0 %).
    /// </summary>
    public static bool IsChinese(ReadOnlySpan<char> text)
    {
        int letters = 0, ideographs = 0;
        foreach (var c in text)
        {
            if (c is (>= '\u4E00' and <= '\u9FFF') or (>= '\u3400' and <= '\u4DBF') or (>= '\uF900' and <= '\uFAFF'))
            {
                ideographs++;
                letters++;
            }
            else if (char.IsLetter(c))
            {
                letters++;
            }
        }

        return ideographs > 0 && ideographs >= ChineseShare * letters;
    }
}

/// <summary>
/// The logistic regression of v4's embedding part: logit = <see cref="Bias"/> + Σ weight_j · (x_j − mean_j) / scale_j over
/// the 384 embedding dimensions; High at or above <see cref="Threshold"/>.
/// </summary>
internal sealed class EmbeddingWeights
{
    private readonly double[] _perDimension;
    private readonly double _offset;

    private EmbeddingWeights(double[] mean, double[] scale, double[] weights, double bias, double threshold, double lambda)
    {
        Mean = mean;
        Scale = scale;
        Coefficients = weights;
        Bias = bias;
        Threshold = threshold;
        Lambda = lambda;
        // Folded once: logit = offset + Σ (weight_j / scale_j) · x_j.
        _perDimension = new double[weights.Length];
        _offset = bias;
        for (var j = 0; j < weights.Length; j++)
        {
            _perDimension[j] = weights[j] / scale[j];
            _offset -= _perDimension[j] * mean[j];
        }
    }

    public IReadOnlyList<double> Mean { get; }

    public IReadOnlyList<double> Scale { get; }

    public IReadOnlyList<double> Coefficients { get; }

    public double Bias { get; }

    public double Threshold { get; }

    /// <summary>The L2 penalty the weights were fitted with (for the docs; not used to score).</summary>
    public double Lambda { get; }

    public double Score(ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != _perDimension.Length)
        {
            throw new ArgumentException($"expected {_perDimension.Length} dimensions, got {embedding.Length}", nameof(embedding));
        }

        var logit = _offset;
        for (var j = 0; j < _perDimension.Length; j++)
        {
            logit += _perDimension[j] * embedding[j];
        }

        return 1 / (1 + Math.Exp(-logit));
    }

    public static EmbeddingWeights Load(string resource)
    {
        using var stream = typeof(EmbeddingWeights).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded resource {resource} is missing.");
        using var json = JsonDocument.Parse(stream);
        var root = json.RootElement;
        var mean = Vector(root, "mean");
        var scale = Vector(root, "scale");
        var weights = Vector(root, "weights");
        if (mean.Length != TextEmbedder.Dimensions || scale.Length != mean.Length || weights.Length != mean.Length)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{resource}: expected {TextEmbedder.Dimensions} means, scales and weights"));
        }

        return new EmbeddingWeights(mean, scale, weights, root.GetProperty("bias").GetDouble(), root.GetProperty("threshold").GetDouble(), root.GetProperty("lambda").GetDouble());
    }

    private static double[] Vector(JsonElement root, string name) => [.. root.GetProperty(name).EnumerateArray().Select(v => v.GetDouble())];
}

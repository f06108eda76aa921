using System.Buffers;
using System.Text.Json;

namespace Tollgate.Gateway.Routing;

/// <summary>How demanding a prompt is for a model: the value of a route rule's <c>when: {complexity: low|high}</c>.</summary>
internal enum Complexity
{
    /// <summary>A small model does it well: lookups, rewriting, translation, summaries, formatting, simple code, chat.</summary>
    Low,

    /// <summary>A small model would likely answer poorly: proofs, multi-step reasoning, non-trivial code, design, analysis.</summary>
    High,
}

/// <summary>
/// The gateway's prompt-complexity classifier, v6 (docs/complexity.md): a logistic regression over TF-IDF weighted
/// character 1–4-grams taken within words of the prompt's lowercased instruction part. The weights are frozen in
/// <c>complexity-v6.json</c> (an embedded resource written by <c>tools/complexity-lab/lab.py export</c>), loaded on first
/// use or by <see cref="Warm"/>. Microseconds per prompt, no model provider, no embedding model.
/// </summary>
internal sealed class ComplexityModel
{
    /// <summary>The embedded resource holding the frozen weights.</summary>
    public const string WeightsResource = "Tollgate.Routing.complexity-v6.json";

    private static readonly Lazy<NgramWeights> Frozen = new(() => NgramWeights.Load(WeightsResource), LazyThreadSafetyMode.ExecutionAndPublication);

    private int _warming;
    private long _classifications;

    /// <summary>The frozen weights.</summary>
    public static NgramWeights Weights => Frozen.Value;

    /// <summary>How many prompts this instance has classified (tests check that a call whose rules do not ask runs none).</summary>
    public long Classifications => Interlocked.Read(ref _classifications);

    /// <summary>Loads the weights in the background, once (when a route with a complexity rule is loaded).</summary>
    public void Warm()
    {
        if (Interlocked.Exchange(ref _warming, 1) == 0)
        {
            _ = Task.Run(() => Frozen.Value);
        }
    }

    /// <summary>The complexity of a prompt (the last user turn's text): High when its score reaches the frozen threshold.</summary>
    public Complexity Classify(string prompt)
    {
        Interlocked.Increment(ref _classifications);
        return Weights.Score(prompt) >= Weights.Threshold ? Complexity.High : Complexity.Low;
    }
}

/// <summary>
/// v6's weights and its scoring, the same arithmetic as scikit-learn's <c>TfidfVectorizer(analyzer="char_wb",
/// ngram_range=(1, 4), sublinear_tf=True)</c> followed by <c>LogisticRegression.predict_proba</c>: every word of the
/// instruction part, padded with a space each side, yields its 1- to 4-character n-grams (a word shorter than n yields
/// itself once); a known n-gram seen k times has the value (1 + ln k) · idf; the values are L2-normalized and the score is
/// logistic(intercept + Σ weight · value). Unknown n-grams are ignored.
/// </summary>
internal sealed class NgramWeights
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _index;
    private readonly double[] _idf;
    private readonly double[] _weight;

    private NgramWeights(Dictionary<string, int> index, double[] idf, double[] weight, JsonElement root)
    {
        _index = index.GetAlternateLookup<ReadOnlySpan<char>>();
        _idf = idf;
        _weight = weight;
        Intercept = root.GetProperty("intercept").GetDouble();
        Threshold = root.GetProperty("threshold").GetDouble();
        C = root.GetProperty("c").GetDouble();
        WholeUpTo = root.GetProperty("whole_up_to").GetInt32();
        Window = root.GetProperty("window").GetInt32();
        MinN = root.GetProperty("ngram_min").GetInt32();
        MaxN = root.GetProperty("ngram_max").GetInt32();
        if (MinN < 1 || MaxN < MinN || Window < 1 || WholeUpTo < 2 * Window || WholeUpTo > 4000) // the instruction part is on the stack
        {
            throw new InvalidDataException("complexity weights: invalid n-gram range or window");
        }
    }

    /// <summary>How many n-grams the model knows.</summary>
    public int Count => _idf.Length;

    public double Intercept { get; }

    /// <summary>A score at or above it is High.</summary>
    public double Threshold { get; }

    /// <summary>The inverse L2 penalty the weights were fitted with (for the docs; not used to score).</summary>
    public double C { get; }

    /// <summary>A prompt up to this many characters is read whole; a longer one as its first and last <see cref="Window"/>.</summary>
    public int WholeUpTo { get; }

    public int Window { get; }

    public int MinN { get; }

    public int MaxN { get; }

    /// <summary>The weight of one n-gram, or null when the model does not know it (for the docs and tests).</summary>
    public double? WeightOf(string ngram) => _index.Dictionary.TryGetValue(ngram, out var i) ? _weight[i] : null;

    /// <summary>The known n-grams with the largest weights toward <paramref name="high"/> (for the docs).</summary>
    public IEnumerable<(string Ngram, double Weight)> Strongest(bool high, int count) =>
        _index.Dictionary.Select(p => (p.Key, _weight[p.Value])).OrderBy(p => high ? -p.Item2 : p.Item2).ThenBy(p => p.Key, StringComparer.Ordinal).Take(count);

    /// <summary>The logistic score of a prompt, 0 to 1. Allocates nothing once the weights are loaded.</summary>
    public double Score(ReadOnlySpan<char> prompt)
    {
        // The instruction part, lowercased, whitespace runs collapsed to one space, with a space at each end: every word
        // padded with a space each side is then a slice of it.
        Span<char> text = stackalloc char[(prompt.Length <= WholeUpTo ? prompt.Length : (2 * Window) + 3) + 2];
        var written = Instruction(prompt, text);
        // A padded word of w characters has at most w n-grams of each length, and the padded words overlap by their spaces.
        var found = ArrayPool<int>.Shared.Rent(2 * written * (MaxN - MinN + 1));
        try
        {
            return Logistic(found.AsSpan(0, Ngrams(text[..written], found)));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(found);
        }
    }

    private int Instruction(ReadOnlySpan<char> prompt, Span<char> text)
    {
        var written = 0;
        text[written++] = ' ';
        if (prompt.Length <= WholeUpTo)
        {
            Append(prompt, text, ref written);
        }
        else
        {
            Append(prompt[..Window], text, ref written);
            Append(" \n ", text, ref written);
            Append(prompt[^Window..], text, ref written);
        }

        if (text[written - 1] != ' ')
        {
            text[written++] = ' ';
        }

        return written;
    }

    private static void Append(ReadOnlySpan<char> source, Span<char> text, ref int written)
    {
        foreach (var c in source)
        {
            if (char.IsWhiteSpace(c))
            {
                if (text[written - 1] != ' ')
                {
                    text[written++] = ' ';
                }
            }
            else
            {
                text[written++] = char.ToLowerInvariant(c);
            }
        }
    }

    /// <summary>The indices of the known n-grams of every padded word, once per occurrence.</summary>
    private int Ngrams(ReadOnlySpan<char> text, int[] found)
    {
        var count = 0;
        for (var start = 0; start < text.Length - 1;)
        {
            var next = text[(start + 1)..].IndexOf(' ') + start + 1; // the space closing this word
            var word = text[start..(next + 1)];
            for (var n = MinN; n <= MaxN; n++)
            {
                for (var at = 0; at == 0 || at + n <= word.Length; at++)
                {
                    if (_index.TryGetValue(word.Slice(at, Math.Min(n, word.Length - at)), out var i))
                    {
                        found[count++] = i;
                    }
                }

                if (word.Length <= n)
                {
                    break;
                }
            }

            start = next;
        }

        return count;
    }

    private double Logistic(Span<int> found)
    {
        found.Sort();
        double squares = 0, dot = 0;
        for (var at = 0; at < found.Length;)
        {
            var i = found[at];
            var run = at;
            while (run < found.Length && found[run] == i)
            {
                run++;
            }

            var value = (1 + Math.Log(run - at)) * _idf[i];
            squares += value * value;
            dot += _weight[i] * value;
            at = run;
        }

        var logit = Intercept + (squares > 0 ? dot / Math.Sqrt(squares) : 0);
        return 1 / (1 + Math.Exp(-logit));
    }

    public static NgramWeights Load(string resource)
    {
        using var stream = typeof(NgramWeights).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded resource {resource} is missing.");
        using var json = JsonDocument.Parse(stream);
        var root = json.RootElement;
        var features = root.GetProperty("features");
        var count = features.GetArrayLength();
        var index = new Dictionary<string, int>(count, StringComparer.Ordinal);
        var idf = new double[count];
        var weight = new double[count];
        foreach (var feature in features.EnumerateArray())
        {
            var i = index.Count;
            index.Add(feature[0].GetString()!, i);
            idf[i] = feature[1].GetDouble();
            weight[i] = feature[2].GetDouble();
        }

        return new NgramWeights(index, idf, weight, root);
    }
}

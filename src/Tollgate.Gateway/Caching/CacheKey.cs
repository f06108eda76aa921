using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The exact-match key (docs/api.md): SHA-256 over the namespace, the model the client named, the API path and the
/// canonical JSON of the request body without <c>stream</c>, <c>stream_options</c>, <c>user</c> and <c>metadata</c>.
/// Canonical: object members sorted by name (ordinal) at every depth, no whitespace, strings re-escaped one way, numbers
/// as written. Two requests that differ only in member order, spacing or escaping get the same key.
/// </summary>
internal static class CacheKey
{
    private static readonly string[] Ignored = ["stream", "stream_options", "user", "metadata"];

    public static byte[] Compute(string ns, string model, string path, JsonElement body)
    {
        var canonical = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(canonical, new JsonWriterOptions { Encoder = Storage.JsonOutput.Encoder }))
        {
            Write(writer, body, top: true);
        }

        using var hash = Start(ns, model, path);
        hash.AppendData(canonical.WrittenSpan);
        return hash.GetHashAndReset();
    }

    /// <summary>
    /// The key of one embedding input: the namespace, model and path, the canonical rest of the request, and the input's
    /// JSON (none: the key of the rest alone, as the semantic cache's context).
    /// </summary>
    public static byte[] Compute(string ns, string model, string path, ReadOnlySpan<byte> canonicalRest, JsonElement input)
    {
        using var hash = Start(ns, model, path);
        hash.AppendData(canonicalRest);
        hash.AppendData([0]);
        if (input.ValueKind == JsonValueKind.Undefined)
        {
            return hash.GetHashAndReset();
        }

        var value = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(value, new JsonWriterOptions { Encoder = Storage.JsonOutput.Encoder }))
        {
            Write(writer, input);
        }

        hash.AppendData(value.WrittenSpan);
        return hash.GetHashAndReset();
    }

    /// <summary>The canonical JSON of one value (for the semantic cache's hash of everything but the last user turn).</summary>
    public static void Write(Utf8JsonWriter writer, JsonElement element, bool top = false)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var member in element.EnumerateObject().OrderBy(m => m.Name, StringComparer.Ordinal))
                {
                    if (top && Ignored.Contains(member.Name))
                    {
                        continue;
                    }

                    writer.WritePropertyName(member.Name);
                    Write(writer, member.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private static IncrementalHash Start(string ns, string model, string path)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in (ReadOnlySpan<string>)[ns, model, path])
        {
            hash.AppendData(Encoding.UTF8.GetBytes(part));
            hash.AppendData([0]);
        }

        return hash;
    }
}

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
    private static readonly string[] IgnoredMembers = ["stream", "stream_options", "user", "metadata"];

    /// <summary>The top-level members no key hashes: they change how an answer is delivered or attributed, not the answer.</summary>
    public static ReadOnlySpan<string> Ignored => IgnoredMembers;

    public static byte[] Compute(string ns, string model, string path, JsonElement body)
    {
        var canonical = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(canonical, new JsonWriterOptions { Encoder = Storage.JsonOutput.Encoder }))
        {
            WriteCanonical(writer, body, Ignored);
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

    /// <summary>
    /// The canonical JSON of a request body without the members named in <paramref name="skip"/> (at the top only); the
    /// member named <paramref name="replace"/>, if any, is written by <paramref name="replacement"/> instead of as it is.
    /// Every key that hashes a body (exact, semantic context, embedding input) writes it here, so they canonicalize alike.
    /// </summary>
    public static void WriteCanonical(Utf8JsonWriter writer, JsonElement root, ReadOnlySpan<string> skip, string? replace = null, Action<Utf8JsonWriter, JsonElement>? replacement = null)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            Write(writer, root);
            return;
        }

        writer.WriteStartObject();
        foreach (var member in root.EnumerateObject().OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (skip.Contains(member.Name))
            {
                continue;
            }

            writer.WritePropertyName(member.Name);
            if (replacement is not null && member.Name == replace)
            {
                replacement(writer, member.Value);
            }
            else
            {
                Write(writer, member.Value);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>The canonical JSON of one value.</summary>
    public static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteCanonical(writer, element, []);
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

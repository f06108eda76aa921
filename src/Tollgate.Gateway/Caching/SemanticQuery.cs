using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// What a request offers the semantic cache: the text of its last user turn (what is embedded) and the hash of
/// everything else (namespace, model, path, system prompt, tools, earlier turns, parameters), which a stored answer must
/// share exactly. A request whose tail is not a user's text (a tool result, an assistant prefill, only images) is not
/// matched semantically.
/// </summary>
internal sealed record SemanticQuery(string Text, byte[] Context)
{
    /// <summary>The query of a chat, messages or responses request; null when it has no plain last user turn.</summary>
    public static SemanticQuery? Read(WireApi api, string ns, string model, string path, JsonElement root)
    {
        var (list, last) = api switch
        {
            WireApi.ChatCompletions or WireApi.Messages when root.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array && m.GetArrayLength() > 0
                => ("messages", m[m.GetArrayLength() - 1]),
            WireApi.Responses when root.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.String => ("input", i),
            WireApi.Responses when root.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.Array && i.GetArrayLength() > 0
                => ("input", i[i.GetArrayLength() - 1]),
            _ => default,
        };
        if (list is null || UserText(last) is not { Length: > 0 } text)
        {
            return null;
        }

        var rest = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(rest, new JsonWriterOptions { Encoder = Storage.JsonOutput.Encoder }))
        {
            CacheKey.WriteCanonical(writer, root, CacheKey.Ignored, list, static (output, turns) =>
            {
                if (turns.ValueKind != JsonValueKind.Array)
                {
                    output.WriteNullValue(); // a string input is the question itself: nothing was said before it
                    return;
                }

                // The turns before the last: the conversation the question is asked in.
                output.WriteStartArray();
                foreach (var turn in turns.EnumerateArray().SkipLast(1))
                {
                    CacheKey.Write(output, turn);
                }

                output.WriteEndArray();
            });
        }

        return new SemanticQuery(text, CacheKey.Compute(ns, model, path + "#semantic", rest.WrittenSpan, default));
    }

    /// <summary>The text of a user turn (a string, or its text parts when it has only text); null for anything else.</summary>
    private static string? UserText(JsonElement turn)
    {
        if (turn.ValueKind == JsonValueKind.String)
        {
            return turn.GetString();
        }

        if (turn.ValueKind != JsonValueKind.Object || !turn.TryGetProperty("role", out var role) || role.GetString() != "user"
            || (turn.TryGetProperty("type", out var type) && type.GetString() != "message")
            || !turn.TryGetProperty("content", out var content))
        {
            return null;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var partType)
                || partType.GetString() is not ("text" or "input_text") || !part.TryGetProperty("text", out var value))
            {
                return null; // an image, a file or a tool result: not a question the cache can compare
            }

            text.Append(value.GetString()).Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }
}

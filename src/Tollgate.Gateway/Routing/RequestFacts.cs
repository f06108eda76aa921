using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Protocols.Translation;

namespace Tollgate.Gateway.Routing;

/// <summary>
/// What route rules look at in a request body, read only when a route has rules: whether it defines tools, whether it
/// carries images, and the text of its last user turn (for <c>matches</c> and <c>complexity</c>). The three APIs' shapes
/// (Chat Completions and Anthropic <c>messages</c>, the Responses API's <c>input</c>) are read alike.
/// </summary>
internal readonly record struct RequestFacts(bool HasTools, bool HasImages, string LastUserTurn)
{
    public static RequestFacts Read(ReadOnlySpan<byte> body)
    {
        // As deep as the request check lets a body be (a deeper one is refused before routing).
        var reader = new Utf8JsonReader(body, Wire.ReaderOptions);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var hasTools = root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
        var hasImages = false;
        var last = "";
        var turns = root.TryGetProperty("messages", out var messages) ? messages : root.TryGetProperty("input", out var input) ? input : default;
        if (turns.ValueKind == JsonValueKind.String)
        {
            last = turns.GetString() ?? "";
        }
        else if (turns.ValueKind == JsonValueKind.Array)
        {
            foreach (var turn in turns.EnumerateArray())
            {
                if (turn.ValueKind != JsonValueKind.Object || !turn.TryGetProperty("content", out var content))
                {
                    continue;
                }

                hasImages |= HasImage(content);
                if (turn.TryGetProperty("role", out var role) && role.ValueEquals("user"u8) && Text(content) is { Length: > 0 } text)
                {
                    last = text;
                }
            }
        }

        return new RequestFacts(hasTools, hasImages, last);
    }

    private static bool HasImage(JsonElement content)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var type)
                && (type.ValueEquals("image_url"u8) || type.ValueEquals("image"u8) || type.ValueEquals("input_image"u8)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A turn's text: its content string, or its text parts joined by newlines (tool results and images left out).</summary>
    private static string Text(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? "";
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var type)
                && (type.ValueEquals("text"u8) || type.ValueEquals("input_text"u8)) && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
            {
                text.Append(text.Length > 0 ? "\n" : "").Append(value.GetString());
            }
        }

        return text.ToString();
    }
}

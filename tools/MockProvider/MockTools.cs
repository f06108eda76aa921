using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.MockProvider;

/// <summary>
/// Tool calling for the mock's Chat Completions and Anthropic Messages endpoints, deterministic like the rest of it:
/// a request that offers tools (and does not say <c>tool_choice: none</c>) and whose last message is not a tool result
/// is answered with a call to the first tool, its arguments a small object fitting the tool's schema (strings are
/// <c>"Paris"</c>, numbers 1, booleans true, enums their first value); a request whose last message is a tool result is
/// answered with text that quotes the result, so a test can see it arrived.
/// </summary>
internal static class MockTools
{
    /// <summary>What the mock answers to a request: a tool call, a text quoting a tool result, or (both null) its usual words.</summary>
    internal sealed record Turn(string? ToolName, string? Arguments, string? Text)
    {
        public static readonly Turn Usual = new(null, null, null);

        public bool IsCall => ToolName is not null;
    }

    /// <summary>The answer to a Chat Completions request.</summary>
    public static Turn ForChat(JsonElement root)
    {
        if (LastMessage(root) is { } last && Str(last, "role") == "tool")
        {
            return new Turn(null, null, ResultText(last.TryGetProperty("content", out var c) ? c : default));
        }

        if (ToolChoiceNone(root) || !root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return Turn.Usual;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("function", out var function) && Str(function, "name") is { } name)
            {
                return new Turn(name, Arguments(function.TryGetProperty("parameters", out var p) ? p : default), null);
            }
        }

        return Turn.Usual;
    }

    /// <summary>The answer to an Anthropic Messages request.</summary>
    public static Turn ForMessages(JsonElement root)
    {
        if (LastMessage(root) is { } last && Str(last, "role") == "user" && last.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            string? result = null;
            foreach (var block in content.EnumerateArray())
            {
                if (block.ValueKind == JsonValueKind.Object && Str(block, "type") == "tool_result")
                {
                    result = (result is null ? "" : result + " ") + ResultText(block.TryGetProperty("content", out var c) ? c : default);
                }
            }

            if (result is not null)
            {
                return new Turn(null, null, result);
            }
        }

        if (ToolChoiceNone(root) || !root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return Turn.Usual;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.Object && Str(tool, "name") is { } name)
            {
                return new Turn(name, Arguments(tool.TryGetProperty("input_schema", out var s) ? s : default), null);
            }
        }

        return Turn.Usual;
    }

    /// <summary>The words a text answer streams as: the text split before each space.</summary>
    public static IEnumerable<string> Words(string text)
    {
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == ' ')
            {
                yield return text[start..i];
                start = i;
            }
        }

        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    /// <summary>The argument JSON streamed in fragments, as the real APIs send it: a few characters at a time.</summary>
    public static IEnumerable<string> Fragments(string json, int size = 6)
    {
        for (var i = 0; i < json.Length; i += size)
        {
            yield return json.Substring(i, Math.Min(size, json.Length - i));
        }
    }

    public static string CallId(string prefix, int n) => prefix + n.ToString(CultureInfo.InvariantCulture);

    private static string ResultText(JsonElement content)
    {
        var text = content.ValueKind switch
        {
            JsonValueKind.String => content.GetString()!,
            JsonValueKind.Array => string.Join(" ", content.EnumerateArray()
                .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                .Select(p => p.GetProperty("text").GetString())),
            JsonValueKind.Undefined or JsonValueKind.Null => "",
            _ => content.GetRawText(),
        };
        return "The tool returned: " + text;
    }

    private static bool ToolChoiceNone(JsonElement root) =>
        root.TryGetProperty("tool_choice", out var choice)
        && ((choice.ValueKind == JsonValueKind.String && choice.GetString() == "none")
            || (choice.ValueKind == JsonValueKind.Object && Str(choice, "type") == "none"));

    private static JsonElement? LastMessage(JsonElement root) =>
        root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array && messages.GetArrayLength() > 0
            ? messages[messages.GetArrayLength() - 1]
            : null;

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Arguments(JsonElement schema)
    {
        var arguments = new JsonObject();
        if (schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                var p = property.Value;
                if (p.ValueKind == JsonValueKind.Object && p.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
                {
                    arguments[property.Name] = JsonNode.Parse(values[0].GetRawText());
                    continue;
                }

                arguments[property.Name] = Str(p, "type") switch
                {
                    "number" or "integer" => 1,
                    "boolean" => true,
                    "array" => new JsonArray(),
                    "object" => new JsonObject(),
                    _ => "Paris",
                };
            }
        }

        return arguments.ToJsonString();
    }
}

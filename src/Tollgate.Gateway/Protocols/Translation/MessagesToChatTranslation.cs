using System.Buffers;
using System.Text.Json;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// An Anthropic Messages client served by a Chat Completions model: the request goes out as Chat Completions, the
/// answer (whole, streamed or an error) comes back as Messages.
/// </summary>
internal sealed class MessagesToChatTranslation : Translation
{
    public override WireApi Client => WireApi.Messages;

    public override WireApi Provider => WireApi.ChatCompletions;

    protected override string Malformed => "The request does not follow the Messages API: a content block misses a field or has one of the wrong type.";

    protected override TranslationError? WriteRequest(JsonElement request, in TranslationOptions options, PooledBuffer output) =>
        MessagesRequestWriter.Write(request, options, output);

    public override byte[] TranslateResponse(ReadOnlySpan<byte> providerBody, string clientModel)
    {
        using var document = Wire.PooledDocument.Parse(providerBody);
        var root = document?.Root ?? default;
        var isObject = root.ValueKind == JsonValueKind.Object;
        var choice = isObject && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
            ? choices[0] : default;
        var message = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;

        var output = new ArrayBufferWriter<byte>(providerBody.Length + 256);
        using var w = new Utf8JsonWriter(output, Wire.WriterOptions);
        w.WriteStartObject();
        WriteString(w, "id", root, "id", "msg_tollgate");
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        WriteString(w, "model", root, "model", clientModel);
        w.WriteStartArray("content");
        var hasToolCalls = false;
        var refused = false;
        if (message.ValueKind == JsonValueKind.Object)
        {
            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } text)
            {
                WriteText(w, text);
            }

            if (message.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String && refusal.GetString() is { Length: > 0 } refusalText)
            {
                refused = true;
                WriteText(w, refusalText);
            }

            if (message.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in toolCalls.EnumerateArray())
                {
                    hasToolCalls = true;
                    WriteToolUse(w, call);
                }
            }
        }

        w.WriteEndArray();
        var finish = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        w.WriteString("stop_reason", refused ? "refusal" : hasToolCalls && finish is null or "stop" ? "tool_use" : Reasons.ToStopReason(finish));
        w.WriteNull("stop_sequence");
        var usage = isObject && root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
        WriteAnthropicUsage(w, Number(usage, "prompt_tokens"), Cached(usage), Number(usage, "completion_tokens"));
        w.WriteEndObject();
        w.Flush();
        return output.WrittenSpan.ToArray();
    }

    public override byte[] TranslateErrorBody(int status, ReadOnlySpan<byte> providerBody)
    {
        string? message = null, code = null, type = null;
        using (var document = Wire.PooledDocument.Parse(providerBody))
        {
            if (document?.Root is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.Object)
                {
                    message = String(error, "message");
                    code = String(error, "code");
                    type = String(error, "type");
                }
                else if (error.ValueKind == JsonValueKind.String)
                {
                    message = error.GetString(); // some OpenAI-compatible servers: {"error": "..."}
                }
            }
        }

        var output = new ArrayBufferWriter<byte>(256);
        using var w = new Utf8JsonWriter(output, Wire.WriterOptions);
        WriteAnthropicError(w, Reasons.ToAnthropicType(status, code, type), message ?? ChatToMessagesTranslation.GenericMessage(status));
        w.Flush();
        return output.WrittenSpan.ToArray();
    }

    public override StreamTranslator CreateStream(bool clientIncludeUsage, string clientModel) => new ChatToAnthropicStream(clientModel);

    internal static void WriteAnthropicError(Utf8JsonWriter w, string type, string message)
    {
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", type);
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Anthropic usage from Chat's: <c>input_tokens</c> excludes what was read from the cache.</summary>
    internal static void WriteAnthropicUsage(Utf8JsonWriter w, long prompt, long cached, long completion)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", Math.Max(prompt - cached, 0));
        w.WriteNumber("cache_creation_input_tokens", 0);
        w.WriteNumber("cache_read_input_tokens", cached);
        w.WriteNumber("output_tokens", completion);
        w.WriteEndObject();
    }

    private static string? String(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long Number(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : 0;

    private static long Cached(JsonElement usage) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty("prompt_tokens_details", out var details) ? Number(details, "cached_tokens") : 0;

    private static void WriteString(Utf8JsonWriter w, string name, JsonElement obj, string property, string fallback)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String)
        {
            w.WritePropertyName(name);
            value.WriteTo(w);
        }
        else
        {
            w.WriteString(name, fallback);
        }
    }

    private static void WriteText(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void WriteToolUse(Utf8JsonWriter w, JsonElement call)
    {
        var function = call.ValueKind == JsonValueKind.Object && call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        w.WriteStartObject();
        w.WriteString("type", "tool_use");
        WriteString(w, "id", call, "id", "toolu_tollgate");
        WriteString(w, "name", function, "name", "");
        w.WritePropertyName("input");
        var arguments = function.ValueKind == JsonValueKind.Object ? String(function, "arguments") : null;
        WriteInput(w, arguments);
        w.WriteEndObject();
    }

    /// <summary>The arguments string as the <c>input</c> object; arguments that are not a JSON object become <c>{}</c>.</summary>
    private static void WriteInput(Utf8JsonWriter w, string? arguments)
    {
        if (!string.IsNullOrWhiteSpace(arguments))
        {
            try
            {
                using var input = JsonDocument.Parse(arguments, Wire.DocumentOptions);
                if (input.RootElement.ValueKind == JsonValueKind.Object)
                {
                    input.RootElement.WriteTo(w);
                    return;
                }
            }
            catch (JsonException)
            {
                // falls through to {}
            }
        }

        w.WriteStartObject();
        w.WriteEndObject();
    }
}

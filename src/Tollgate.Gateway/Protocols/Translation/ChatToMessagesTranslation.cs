using System.Buffers;
using System.Text.Json;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// A Chat Completions client served by an Anthropic model: the request goes out as Messages, the answer (whole,
/// streamed or an error) comes back as Chat Completions.
/// </summary>
internal sealed class ChatToMessagesTranslation : Translation
{
    public override WireApi Client => WireApi.ChatCompletions;

    public override WireApi Provider => WireApi.Messages;

    protected override string Malformed => "The request does not follow the Chat Completions API: a message or part misses a field or has one of the wrong type.";

    protected override TranslationError? WriteRequest(JsonElement request, in TranslationOptions options, PooledBuffer output) =>
        ChatRequestWriter.Write(request, options, output);

    public override byte[] TranslateResponse(ReadOnlySpan<byte> providerBody, string clientModel)
    {
        using var document = Wire.PooledDocument.Parse(providerBody);
        var output = new ArrayBufferWriter<byte>(providerBody.Length + 256);
        using var w = new Utf8JsonWriter(output, Wire.WriterOptions);
        var message = document?.Root ?? default;
        var isObject = message.ValueKind == JsonValueKind.Object;
        w.WriteStartObject();
        WriteStringOr(w, "id", isObject ? message : default, "id", "msg_unknown");
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", Wire.Unix(TimeProvider.System));
        WriteStringOr(w, "model", isObject ? message : default, "model", clientModel);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        var hasToolUse = false;
        if (isObject && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
        {
            WriteChatContent(w, content, out hasToolUse);
        }
        else
        {
            w.WriteNull("content");
        }

        w.WriteNull("refusal");
        w.WriteEndObject();
        w.WriteNull("logprobs");
        var stopReason = isObject && message.TryGetProperty("stop_reason", out var stop) && stop.ValueKind == JsonValueKind.String ? stop.GetString() : null;
        w.WriteString("finish_reason", hasToolUse && stopReason is null or "end_turn" ? "tool_calls" : Reasons.ToFinishReason(stopReason));
        w.WriteEndObject();
        w.WriteEndArray();
        if (isObject && message.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            WriteChatUsage(w, Number(usage, "input_tokens"), Number(usage, "cache_read_input_tokens"), Number(usage, "cache_creation_input_tokens"), Number(usage, "output_tokens"));
        }

        w.WriteEndObject();
        w.Flush();
        return output.WrittenSpan.ToArray();
    }

    public override byte[] TranslateErrorBody(int status, ReadOnlySpan<byte> providerBody)
    {
        string? type = null;
        string? message = null;
        using (var document = Wire.PooledDocument.Parse(providerBody))
        {
            if (document?.Root is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                type = error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            }
        }

        var output = new ArrayBufferWriter<byte>(256);
        using var w = new Utf8JsonWriter(output, Wire.WriterOptions);
        WriteOpenAiError(w, status, type, message ?? GenericMessage(status));
        w.Flush();
        return output.WrittenSpan.ToArray();
    }

    public override StreamTranslator CreateStream(bool clientIncludeUsage, string clientModel) =>
        new AnthropicToChatStream(clientIncludeUsage, clientModel, TimeProvider.System);

    internal static string GenericMessage(int status) => $"The provider answered with status {status} and a body that is not a recognizable error.";

    /// <summary><c>{"error":{"message","type","param":null,"code"}}</c> from an Anthropic error type.</summary>
    internal static void WriteOpenAiError(Utf8JsonWriter w, int status, string? anthropicType, string message)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", Reasons.ToOpenAiType(status, anthropicType));
        w.WriteNull("param");
        if (Reasons.ToOpenAiCode(anthropicType) is { } code)
        {
            w.WriteString("code", code);
        }
        else
        {
            w.WriteNull("code");
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Chat usage from Anthropic's: prompt_tokens includes the cache reads and writes Anthropic counts apart.</summary>
    internal static void WriteChatUsage(Utf8JsonWriter w, long input, long cacheRead, long cacheCreation, long output)
    {
        var prompt = input + cacheRead + cacheCreation;
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", prompt);
        w.WriteNumber("completion_tokens", output);
        w.WriteNumber("total_tokens", prompt + output);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", cacheRead);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static long Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : 0;

    private static void WriteStringOr(Utf8JsonWriter w, string name, JsonElement obj, string property, string fallback)
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

    /// <summary>Text blocks join into <c>content</c>; <c>tool_use</c> blocks become <c>tool_calls</c>; thinking is dropped.</summary>
    private static void WriteChatContent(Utf8JsonWriter w, JsonElement blocks, out bool hasToolUse)
    {
        hasToolUse = false;
        string? text = null;
        var textCount = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            if (TypeIs(block, "text") && block.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text = textCount++ == 0 ? t.GetString() : text + t.GetString();
            }
            else if (TypeIs(block, "tool_use"))
            {
                hasToolUse = true;
            }
        }

        WriteChatAssistant(w, text, blocks, hasToolUse);
    }

    /// <summary>A Chat assistant message's <c>content</c> (null without text) and, with <c>tool_use</c> blocks, its <c>tool_calls</c>.</summary>
    internal static void WriteChatAssistant(Utf8JsonWriter w, string? text, JsonElement blocks, bool hasToolUse)
    {
        if (text is null)
        {
            w.WriteNull("content");
        }
        else
        {
            w.WriteString("content", text);
        }

        if (!hasToolUse)
        {
            return;
        }

        w.WriteStartArray("tool_calls");
        foreach (var block in blocks.EnumerateArray())
        {
            if (!TypeIs(block, "tool_use"))
            {
                continue;
            }

            w.WriteStartObject();
            if (block.TryGetProperty("id", out var id))
            {
                w.WritePropertyName("id");
                id.WriteTo(w);
            }

            w.WriteString("type", "function");
            w.WriteStartObject("function");
            if (block.TryGetProperty("name", out var name))
            {
                w.WritePropertyName("name");
                name.WriteTo(w);
            }

            w.WriteString("arguments", block.TryGetProperty("input", out var input) ? Compact(input) : "{}");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    internal static bool TypeIs(JsonElement element, string type) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.ValueEquals(type);

    /// <summary>A JSON value as compact text (tool arguments are a JSON string in Chat).</summary>
    internal static string Compact(JsonElement value)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(output, Wire.WriterOptions))
        {
            value.WriteTo(w);
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }
}

using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// Writes the Chat Completions request for an Anthropic Messages request: <c>system</c> becomes the first message,
/// <c>tool_result</c> blocks become <c>tool</c> messages ahead of the user text of their turn, <c>tool_use</c> blocks
/// become <c>tool_calls</c>, thinking and <c>cache_control</c> are dropped. Parameters with no Chat equivalent are
/// refused by name, or dropped when the route says so.
/// </summary>
internal sealed class MessagesRequestWriter
{
    private readonly Utf8JsonWriter _w;
    private List<string>? _unsupported;
    private TranslationError? _error;

    private MessagesRequestWriter(Utf8JsonWriter writer) => _w = writer;

    public static TranslationError? Write(JsonElement root, in TranslationOptions options, PooledBuffer buffer)
    {
        using var w = new Utf8JsonWriter(new PooledBufferWriter(buffer), Wire.WriterOptions);
        var writer = new MessagesRequestWriter(w);
        writer.WriteRequest(root, options);
        w.Flush();
        if (writer._error is not null || writer._unsupported is null || options.DropUnsupported)
        {
            return writer._error;
        }

        var distinct = writer._unsupported.Distinct().ToList();
        var names = string.Join(", ", distinct.Select(n => "'" + n + "'"));
        return new TranslationError(
            $"{names} cannot be sent to a Chat Completions model; remove {(distinct.Count == 1 ? "it" : "them")}, or set drop_unsupported_params on the route.",
            distinct[0]);
    }

    private void WriteRequest(JsonElement root, in TranslationOptions options)
    {
        JsonElement messages = default, system = default, tools = default, toolChoice = default, stop = default, temperature = default, topP = default;
        long? maxTokens = null;
        string? userId = null;
        var stream = false;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var name = property.Name;
            switch (name)
            {
                case "model":
                    break;
                case "messages":
                    messages = value;
                    break;
                case "system":
                    system = value;
                    break;
                case "max_tokens":
                    if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var max) && max > 0)
                    {
                        maxTokens = max;
                    }
                    else if (value.ValueKind != JsonValueKind.Null)
                    {
                        _error ??= new TranslationError("'max_tokens' must be a positive integer.", name);
                    }

                    break;
                case "stop_sequences":
                    stop = value;
                    break;
                case "temperature":
                    temperature = value;
                    break;
                case "top_p":
                    topP = value;
                    break;
                case "stream":
                    stream = value.ValueKind == JsonValueKind.True;
                    break;
                case "metadata":
                    userId = value.ValueKind == JsonValueKind.Object && value.TryGetProperty("user_id", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
                    break;
                case "tools":
                    tools = value;
                    break;
                case "tool_choice":
                    toolChoice = value;
                    break;
                case "thinking":
                    Unsupported(name, value.ValueKind != JsonValueKind.Null && !ChatToMessagesTranslation.TypeIs(value, "disabled"));
                    break;
                case "service_tier" or "stream_options":
                    break; // a scheduling preference (and an option some clients send to every API): nothing to translate
                default:
                    // top_k, container, mcp_servers, context_management and anything else: no Chat equivalent.
                    Unsupported(name, value.ValueKind != JsonValueKind.Null);
                    break;
            }
        }

        if (_error is not null)
        {
            return;
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            _error = new TranslationError("'messages' must be an array.", "messages");
            return;
        }

        _w.WriteStartObject();
        _w.WriteString("model", options.UpstreamModel);
        _w.WriteStartArray("messages");
        WriteSystem(system);
        foreach (var message in messages.EnumerateArray())
        {
            WriteMessage(message);
        }

        _w.WriteEndArray();
        if (maxTokens is { } limit)
        {
            _w.WriteNumber(options.ProviderKind == ProviderKind.OpenAiCompatible ? "max_tokens" : "max_completion_tokens", limit);
        }

        if (stop.ValueKind == JsonValueKind.Array && stop.GetArrayLength() > 0)
        {
            _w.WritePropertyName("stop");
            stop.WriteTo(_w);
        }

        if (temperature.ValueKind == JsonValueKind.Number)
        {
            _w.WritePropertyName("temperature");
            temperature.WriteTo(_w);
        }

        if (topP.ValueKind == JsonValueKind.Number)
        {
            _w.WritePropertyName("top_p");
            topP.WriteTo(_w);
        }

        if (userId is not null)
        {
            _w.WriteString("user", userId);
        }

        if (WriteTools(tools))
        {
            WriteToolChoice(toolChoice);
        }

        if (stream)
        {
            _w.WriteBoolean("stream", true);
            _w.WriteStartObject("stream_options");
            _w.WriteBoolean("include_usage", true);
            _w.WriteEndObject();
        }

        _w.WriteEndObject();
    }

    private void Unsupported(string name, bool condition = true)
    {
        if (condition)
        {
            (_unsupported ??= []).Add(name);
        }
    }

    private void WriteSystem(JsonElement system)
    {
        var text = system.ValueKind switch
        {
            JsonValueKind.String => system.GetString(),
            JsonValueKind.Array => JoinText(system),
            _ => null,
        };
        if (!string.IsNullOrEmpty(text))
        {
            _w.WriteStartObject();
            _w.WriteString("role", "system");
            _w.WriteString("content", text);
            _w.WriteEndObject();
        }
    }

    /// <summary>The text blocks of a block array, joined by a newline (system prompts and tool results).</summary>
    private static string? JoinText(JsonElement blocks)
    {
        string? single = null;
        StringBuilder? joined = null;
        foreach (var block in blocks.EnumerateArray())
        {
            if (!ChatToMessagesTranslation.TypeIs(block, "text") || !block.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            if (single is null)
            {
                single = t.GetString();
            }
            else
            {
                (joined ??= new StringBuilder(single)).Append('\n').Append(t.GetString());
            }
        }

        return joined?.ToString() ?? single;
    }

    private void WriteMessage(JsonElement message)
    {
        var role = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        var content = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var c) ? c : default;
        if (role is not ("user" or "assistant"))
        {
            _error ??= new TranslationError($"A message's role must be 'user' or 'assistant', not '{role}'.", "messages");
            return;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            _w.WriteStartObject();
            _w.WriteString("role", role);
            _w.WritePropertyName("content");
            content.WriteTo(_w);
            _w.WriteEndObject();
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            _error ??= new TranslationError("A message's content must be a string or an array of content blocks.", "messages");
            return;
        }

        if (role == "assistant")
        {
            WriteAssistant(content);
        }
        else
        {
            WriteUser(content);
        }
    }

    private void WriteAssistant(JsonElement blocks)
    {
        var text = JoinText(blocks);
        var hasToolUse = false;
        foreach (var block in blocks.EnumerateArray())
        {
            var type = block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var t) ? t.GetString() : null;
            switch (type)
            {
                case "tool_use":
                    hasToolUse = true;
                    break;
                case "text" or "thinking" or "redacted_thinking":
                    break; // thinking has no Chat form and is dropped
                default:
                    Unsupported(type ?? "content");
                    break;
            }
        }

        if (text is null && !hasToolUse)
        {
            return; // nothing left (a thinking-only turn)
        }

        _w.WriteStartObject();
        _w.WriteString("role", "assistant");
        ChatToMessagesTranslation.WriteChatAssistant(_w, text, blocks, hasToolUse);
        _w.WriteEndObject();
    }

    /// <summary>Tool results first, one <c>tool</c> message each; then the rest of the turn as one user message.</summary>
    private void WriteUser(JsonElement blocks)
    {
        var rest = 0;
        var onlyText = true;
        foreach (var block in blocks.EnumerateArray())
        {
            if (ChatToMessagesTranslation.TypeIs(block, "tool_result"))
            {
                WriteToolResult(block, ref rest, ref onlyText);
            }
            else if (ChatToMessagesTranslation.TypeIs(block, "text"))
            {
                rest++;
            }
            else
            {
                rest++;
                onlyText = false;
            }
        }

        if (rest == 0)
        {
            return;
        }

        _w.WriteStartObject();
        _w.WriteString("role", "user");
        if (onlyText && rest == 1)
        {
            _w.WriteString("content", JoinText(blocks));
            _w.WriteEndObject();
            return;
        }

        _w.WriteStartArray("content");
        foreach (var block in blocks.EnumerateArray())
        {
            if (ChatToMessagesTranslation.TypeIs(block, "tool_result"))
            {
                // Images a tool returned: Chat tool messages hold text only, so they follow in the user turn.
                if (block.TryGetProperty("content", out var inner) && inner.ValueKind == JsonValueKind.Array)
                {
                    foreach (var part in inner.EnumerateArray())
                    {
                        if (!ChatToMessagesTranslation.TypeIs(part, "text"))
                        {
                            WritePart(part);
                        }
                    }
                }
            }
            else
            {
                WritePart(block);
            }
        }

        _w.WriteEndArray();
        _w.WriteEndObject();
    }

    private void WriteToolResult(JsonElement block, ref int rest, ref bool onlyText)
    {
        _w.WriteStartObject();
        _w.WriteString("role", "tool");
        if (block.TryGetProperty("tool_use_id", out var id))
        {
            _w.WritePropertyName("tool_call_id");
            id.WriteTo(_w);
        }

        var content = block.TryGetProperty("content", out var c) ? c : default;
        if (content.ValueKind == JsonValueKind.Array)
        {
            _w.WriteString("content", JoinText(content) ?? "");
            foreach (var part in content.EnumerateArray())
            {
                if (!ChatToMessagesTranslation.TypeIs(part, "text"))
                {
                    rest++;
                    onlyText = false;
                }
            }
        }
        else if (content.ValueKind == JsonValueKind.String)
        {
            _w.WritePropertyName("content");
            content.WriteTo(_w);
        }
        else
        {
            _w.WriteString("content", "");
        }

        _w.WriteEndObject();
    }

    private void WritePart(JsonElement block)
    {
        var type = block.ValueKind == JsonValueKind.Object && block.TryGetProperty("type", out var t) ? t.GetString() : null;
        var source = block.ValueKind == JsonValueKind.Object && block.TryGetProperty("source", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var sourceType = source.ValueKind == JsonValueKind.Object && source.TryGetProperty("type", out var st) ? st.GetString() : null;
        switch (type, sourceType)
        {
            case ("text", _):
                _w.WriteStartObject();
                _w.WriteString("type", "text");
                _w.WritePropertyName("text");
                block.GetProperty("text").WriteTo(_w);
                _w.WriteEndObject();
                break;
            case ("image", "base64"):
                _w.WriteStartObject();
                _w.WriteString("type", "image_url");
                _w.WriteStartObject("image_url");
                _w.WriteString("url", "data:" + source.GetProperty("media_type").GetString() + ";base64," + source.GetProperty("data").GetString());
                _w.WriteEndObject();
                _w.WriteEndObject();
                break;
            case ("image", "url"):
                _w.WriteStartObject();
                _w.WriteString("type", "image_url");
                _w.WriteStartObject("image_url");
                _w.WritePropertyName("url");
                source.GetProperty("url").WriteTo(_w);
                _w.WriteEndObject();
                _w.WriteEndObject();
                break;
            case ("document", "base64"):
                _w.WriteStartObject();
                _w.WriteString("type", "file");
                _w.WriteStartObject("file");
                _w.WriteString("filename", block.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String ? title.GetString() : "document.pdf");
                _w.WriteString("file_data", "data:" + source.GetProperty("media_type").GetString() + ";base64," + source.GetProperty("data").GetString());
                _w.WriteEndObject();
                _w.WriteEndObject();
                break;
            case ("document", "text"):
                _w.WriteStartObject();
                _w.WriteString("type", "text");
                _w.WritePropertyName("text");
                source.GetProperty("data").WriteTo(_w);
                _w.WriteEndObject();
                break;
            default:
                Unsupported(sourceType is null ? type ?? "content" : type + " (" + sourceType + " source)");
                break;
        }
    }

    /// <summary>Client tools → function tools; false when none was written (then no tool_choice either).</summary>
    private bool WriteTools(JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var any = false;
        foreach (var tool in tools.EnumerateArray())
        {
            // Client tools have no type or "custom"; typed ones (web_search_…, bash_…, text_editor_…) run on Anthropic's side.
            if (tool.ValueKind != JsonValueKind.Object
                || (tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && !type.ValueEquals("custom")))
            {
                Unsupported("tools");
                continue;
            }

            if (!any)
            {
                _w.WriteStartArray("tools");
                any = true;
            }

            _w.WriteStartObject();
            _w.WriteString("type", "function");
            _w.WriteStartObject("function");
            if (tool.TryGetProperty("name", out var name))
            {
                _w.WritePropertyName("name");
                name.WriteTo(_w);
            }

            if (tool.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
            {
                _w.WritePropertyName("description");
                description.WriteTo(_w);
            }

            _w.WritePropertyName("parameters");
            if (tool.TryGetProperty("input_schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
            {
                schema.WriteTo(_w);
            }
            else
            {
                _w.WriteRawValue("""{"type":"object","properties":{}}"""u8, skipInputValidation: true);
            }

            _w.WriteEndObject();
            _w.WriteEndObject();
        }

        if (any)
        {
            _w.WriteEndArray();
        }

        return any;
    }

    private void WriteToolChoice(JsonElement toolChoice)
    {
        if (toolChoice.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var type = toolChoice.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "auto":
                _w.WriteString("tool_choice", "auto");
                break;
            case "any":
                _w.WriteString("tool_choice", "required");
                break;
            case "none":
                _w.WriteString("tool_choice", "none");
                break;
            case "tool":
                _w.WriteStartObject("tool_choice");
                _w.WriteString("type", "function");
                _w.WriteStartObject("function");
                _w.WritePropertyName("name");
                toolChoice.GetProperty("name").WriteTo(_w);
                _w.WriteEndObject();
                _w.WriteEndObject();
                break;
            default:
                Unsupported("tool_choice");
                return;
        }

        if (type != "none" && toolChoice.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True)
        {
            _w.WriteBoolean("parallel_tool_calls", false);
        }
    }
}

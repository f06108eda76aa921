using System.Text.Json;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// Writes the Anthropic Messages request for a Chat Completions request: system and developer messages become the
/// top-level <c>system</c>, consecutive same-role turns merge (tool results into one user turn), tool calls become
/// <c>tool_use</c> blocks and the parameters map one by one. Parameters with no Anthropic equivalent are refused by
/// name, or dropped when the route says so.
/// </summary>
internal sealed class ChatRequestWriter
{
    private readonly Utf8JsonWriter _w;
    private readonly bool _drop;
    private readonly List<JsonElement> _system = [];
    private List<string>? _unsupported;
    private string? _openRole;
    private TranslationError? _error;

    private ChatRequestWriter(Utf8JsonWriter writer, bool drop)
    {
        _w = writer;
        _drop = drop;
    }

    public static TranslationError? Write(JsonElement root, in TranslationOptions options, PooledBuffer buffer)
    {
        using var w = new Utf8JsonWriter(new PooledBufferWriter(buffer), Wire.WriterOptions);
        var writer = new ChatRequestWriter(w, options.DropUnsupported);
        writer.WriteRequest(root, options);
        w.Flush();
        return writer._error ?? writer.UnsupportedError();
    }

    private void WriteRequest(JsonElement root, in TranslationOptions options)
    {
        JsonElement messages = default, tools = default, toolChoice = default, stop = default, temperature = default, topP = default;
        long? maxTokens = null, maxCompletionTokens = null;
        string? user = null, safetyIdentifier = null;
        bool? parallelToolCalls = null;
        var stream = false;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            var name = property.Name;
            switch (name)
            {
                case "model" or "stream_options" or "store" or "metadata" or "prompt_cache_key":
                    break; // the model is the route's; the rest changes nothing on Anthropic
                case "messages":
                    messages = value;
                    break;
                case "stream":
                    stream = value.ValueKind == JsonValueKind.True;
                    break;
                case "max_tokens":
                    maxTokens = PositiveNumber(value, name);
                    break;
                case "max_completion_tokens":
                    maxCompletionTokens = PositiveNumber(value, name);
                    break;
                case "temperature":
                    temperature = value;
                    break;
                case "top_p":
                    topP = value;
                    break;
                case "stop":
                    stop = value;
                    break;
                case "user":
                    user = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                    break;
                case "safety_identifier":
                    safetyIdentifier = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                    break;
                case "tools":
                    tools = value;
                    break;
                case "tool_choice":
                    toolChoice = value;
                    break;
                case "parallel_tool_calls":
                    parallelToolCalls = value.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null };
                    break;
                case "n":
                    Unsupported(name, !IsNull(value) && !(value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n == 1));
                    break;
                case "response_format":
                    Unsupported(name, !IsNull(value) && !ChatToMessagesTranslation.TypeIs(value, "text"));
                    break;
                case "logprobs":
                    Unsupported(name, !IsNull(value) && value.ValueKind != JsonValueKind.False);
                    break;
                case "presence_penalty" or "frequency_penalty":
                    Unsupported(name, !IsNull(value) && !(value.ValueKind == JsonValueKind.Number && value.GetDouble() == 0));
                    break;
                case "logit_bias":
                    Unsupported(name, !IsNull(value) && !(value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any()));
                    break;
                case "modalities":
                    Unsupported(name, !IsNull(value) && !(value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(m => m.ValueKind == JsonValueKind.String && m.ValueEquals("text"))));
                    break;
                case "service_tier":
                    Unsupported(name, !IsNull(value) && !(value.ValueKind == JsonValueKind.String && (value.ValueEquals("auto") || value.ValueEquals("default"))));
                    break;
                default:
                    // top_logprobs, seed, audio, prediction, reasoning_effort, verbosity, web_search_options, functions,
                    // function_call and anything else: no Anthropic equivalent unless it is null.
                    Unsupported(name, !IsNull(value));
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
        _w.WriteNumber("max_tokens", maxCompletionTokens ?? maxTokens ?? options.DefaultMaxTokens);
        WriteMessages(messages);
        if (_error is not null)
        {
            return;
        }

        WriteSystem();
        WriteStop(stop);
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

        if ((user ?? safetyIdentifier) is { } userId)
        {
            _w.WriteStartObject("metadata");
            _w.WriteString("user_id", userId);
            _w.WriteEndObject();
        }

        if (WriteTools(tools))
        {
            WriteToolChoice(toolChoice, parallelToolCalls);
        }

        if (stream)
        {
            _w.WriteBoolean("stream", true);
        }

        _w.WriteEndObject();
    }

    private TranslationError? UnsupportedError()
    {
        if (_unsupported is null || _drop)
        {
            return null;
        }

        var names = string.Join(", ", _unsupported.Distinct().Select(n => "'" + n + "'"));
        var them = _unsupported.Distinct().Count() == 1 ? "it" : "them";
        return new TranslationError($"{names} cannot be sent to an Anthropic model; remove {them}, or set drop_unsupported_params on the route.", _unsupported[0]);
    }

    private void Unsupported(string name, bool condition = true)
    {
        if (condition)
        {
            (_unsupported ??= []).Add(name);
        }
    }

    private static bool IsNull(JsonElement value) => value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    private long? PositiveNumber(JsonElement value, string name)
    {
        if (IsNull(value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n > 0)
        {
            return n;
        }

        _error ??= new TranslationError($"'{name}' must be a positive integer.", name);
        return null;
    }

    private void WriteMessages(JsonElement messages)
    {
        _w.WriteStartArray("messages");
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var role = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            var content = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var c) ? c : default;
            switch (role)
            {
                case "system" or "developer":
                    _system.Add(content);
                    break;
                case "user":
                    WriteContent(content, "user", index);
                    break;
                case "assistant":
                    WriteContent(content, "assistant", index);
                    if (message.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
                    {
                        WriteToolCalls(toolCalls, index);
                    }

                    break;
                case "tool":
                    WriteToolResult(message);
                    break;
                default:
                    _error ??= new TranslationError($"messages[{index}]: the role '{role}' cannot be sent to an Anthropic model.", "messages");
                    break;
            }

            index++;
        }

        if (_openRole is not null)
        {
            _w.WriteEndArray();
            _w.WriteEndObject();
        }

        _w.WriteEndArray();
    }

    /// <summary>Starts a message of <paramref name="role"/> unless one is open: consecutive same-role turns merge.</summary>
    private void Open(string role)
    {
        if (_openRole == role)
        {
            return;
        }

        if (_openRole is not null)
        {
            _w.WriteEndArray();
            _w.WriteEndObject();
        }

        _openRole = role;
        _w.WriteStartObject();
        _w.WriteString("role", role);
        _w.WriteStartArray("content");
    }

    private void WriteContent(JsonElement content, string role, int index)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            if (content.GetString() is { Length: > 0 } text)
            {
                Open(role);
                WriteTextBlock(text, default);
            }

            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            if (!IsNull(content))
            {
                _error ??= new TranslationError($"messages[{index}].content must be a string or an array of parts.", "messages");
            }

            return;
        }

        foreach (var part in content.EnumerateArray())
        {
            var type = part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) ? t.GetString() : null;
            switch (type)
            {
                case "text" or "refusal":
                    if (part.TryGetProperty(type, out var text) && text.ValueKind == JsonValueKind.String && text.GetString() is { Length: > 0 } value)
                    {
                        Open(role);
                        WriteTextBlock(value, part);
                    }

                    break;
                case "image_url" when role == "user":
                    Open(role);
                    WriteImage(part.TryGetProperty("image_url", out var imageUrl) ? imageUrl : default, part);
                    break;
                case "file" when role == "user" && part.TryGetProperty("file", out var file) && file.TryGetProperty("file_data", out var data)
                                  && data.ValueKind == JsonValueKind.String && DataUrl(data.GetString()!) is { } pdf:
                    Open(role);
                    WriteBase64Source("document", pdf.MediaType, pdf.Data, part);
                    break;
                default:
                    Unsupported(type is null ? "messages[].content" : type);
                    break;
            }
        }
    }

    private void WriteTextBlock(string text, JsonElement part)
    {
        _w.WriteStartObject();
        _w.WriteString("type", "text");
        _w.WriteString("text", text);
        WriteCacheControl(part);
        _w.WriteEndObject();
    }

    /// <summary>Some Chat clients mark parts with Anthropic's <c>cache_control</c>: it passes on.</summary>
    private void WriteCacheControl(JsonElement part)
    {
        if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("cache_control", out var cache) && cache.ValueKind == JsonValueKind.Object)
        {
            _w.WritePropertyName("cache_control");
            cache.WriteTo(_w);
        }
    }

    private void WriteImage(JsonElement imageUrl, JsonElement part)
    {
        var url = imageUrl.ValueKind == JsonValueKind.String ? imageUrl.GetString()
            : imageUrl.ValueKind == JsonValueKind.Object && imageUrl.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()
            : null;
        if (url is null)
        {
            _error ??= new TranslationError("An image_url part has no url.", "messages");
            return;
        }

        if (url.StartsWith("data:", StringComparison.Ordinal))
        {
            if (DataUrl(url) is not { } image)
            {
                _error ??= new TranslationError("An image_url data URL must be base64 ('data:image/png;base64,...').", "messages");
                return;
            }

            WriteBase64Source("image", image.MediaType, image.Data, part);
            return;
        }

        _w.WriteStartObject();
        _w.WriteString("type", "image");
        _w.WriteStartObject("source");
        _w.WriteString("type", "url");
        _w.WriteString("url", url);
        _w.WriteEndObject();
        WriteCacheControl(part);
        _w.WriteEndObject();
    }

    private void WriteBase64Source(string type, ReadOnlySpan<char> mediaType, ReadOnlySpan<char> data, JsonElement part)
    {
        _w.WriteStartObject();
        _w.WriteString("type", type);
        _w.WriteStartObject("source");
        _w.WriteString("type", "base64");
        _w.WriteString("media_type", mediaType);
        _w.WriteString("data", data);
        _w.WriteEndObject();
        WriteCacheControl(part);
        _w.WriteEndObject();
    }

    /// <summary><c>data:&lt;media type&gt;;base64,&lt;data&gt;</c>; null for any other form.</summary>
    internal static (string MediaType, string Data)? DataUrl(string url)
    {
        const string Marker = ";base64,";
        var marker = url.IndexOf(Marker, StringComparison.Ordinal);
        if (!url.StartsWith("data:", StringComparison.Ordinal) || marker < 5)
        {
            return null;
        }

        return (url[5..marker], url[(marker + Marker.Length)..]);
    }

    private void WriteToolCalls(JsonElement toolCalls, int index)
    {
        foreach (var call in toolCalls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                Unsupported("tool_calls[].type");
                continue;
            }

            Open("assistant");
            _w.WriteStartObject();
            _w.WriteString("type", "tool_use");
            if (call.TryGetProperty("id", out var id))
            {
                _w.WritePropertyName("id");
                id.WriteTo(_w);
            }

            if (function.TryGetProperty("name", out var name))
            {
                _w.WritePropertyName("name");
                name.WriteTo(_w);
            }

            _w.WritePropertyName("input");
            var arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
            if (string.IsNullOrWhiteSpace(arguments))
            {
                _w.WriteStartObject();
                _w.WriteEndObject();
            }
            else
            {
                try
                {
                    using var input = JsonDocument.Parse(arguments, Wire.DocumentOptions);
                    if (input.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        throw new JsonException();
                    }

                    input.RootElement.WriteTo(_w);
                }
                catch (JsonException)
                {
                    _error ??= new TranslationError($"messages[{index}].tool_calls: the arguments of a tool call must be a JSON object to be sent to an Anthropic model.", "messages");
                    _w.WriteStartObject();
                    _w.WriteEndObject();
                }
            }

            _w.WriteEndObject();
        }
    }

    private void WriteToolResult(JsonElement message)
    {
        Open("user");
        _w.WriteStartObject();
        _w.WriteString("type", "tool_result");
        if (message.TryGetProperty("tool_call_id", out var id))
        {
            _w.WritePropertyName("tool_use_id");
            id.WriteTo(_w);
        }

        if (message.TryGetProperty("content", out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                if (content.GetString() is { Length: > 0 } text)
                {
                    _w.WriteString("content", text);
                }
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                _w.WriteStartArray("content");
                foreach (var part in content.EnumerateArray())
                {
                    if (ChatToMessagesTranslation.TypeIs(part, "text") && part.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 } value)
                    {
                        WriteTextBlock(value, part);
                    }
                    else if (ChatToMessagesTranslation.TypeIs(part, "image_url"))
                    {
                        WriteImage(part.TryGetProperty("image_url", out var imageUrl) ? imageUrl : default, part);
                    }
                }

                _w.WriteEndArray();
            }
        }

        _w.WriteEndObject();
    }

    private void WriteSystem()
    {
        if (_system.Count == 0)
        {
            return;
        }

        if (_system is [{ ValueKind: JsonValueKind.String } only])
        {
            _w.WriteString("system", only.GetString());
            return;
        }

        _w.WriteStartArray("system");
        foreach (var content in _system)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                if (content.GetString() is { Length: > 0 } text)
                {
                    WriteTextBlock(text, default);
                }
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (ChatToMessagesTranslation.TypeIs(part, "text") && part.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 } value)
                    {
                        WriteTextBlock(value, part);
                    }
                }
            }
        }

        _w.WriteEndArray();
    }

    private void WriteStop(JsonElement stop)
    {
        if (stop.ValueKind == JsonValueKind.String)
        {
            _w.WriteStartArray("stop_sequences");
            _w.WriteStringValue(stop.GetString());
            _w.WriteEndArray();
        }
        else if (stop.ValueKind == JsonValueKind.Array)
        {
            _w.WriteStartArray("stop_sequences");
            foreach (var sequence in stop.EnumerateArray())
            {
                if (sequence.ValueKind == JsonValueKind.String)
                {
                    sequence.WriteTo(_w);
                }
            }

            _w.WriteEndArray();
        }
    }

    /// <summary>Function tools → Anthropic tools; false when no tool was written (then no tool_choice either).</summary>
    private bool WriteTools(JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var any = false;
        foreach (var tool in tools.EnumerateArray())
        {
            if (!ChatToMessagesTranslation.TypeIs(tool, "function") || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
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
            if (function.TryGetProperty("name", out var name))
            {
                _w.WritePropertyName("name");
                name.WriteTo(_w);
            }

            if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
            {
                _w.WritePropertyName("description");
                description.WriteTo(_w);
            }

            _w.WritePropertyName("input_schema");
            if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            {
                parameters.WriteTo(_w);
            }
            else
            {
                _w.WriteRawValue("""{"type":"object","properties":{}}"""u8, skipInputValidation: true);
            }

            WriteCacheControl(tool);
            _w.WriteEndObject();
        }

        if (any)
        {
            _w.WriteEndArray();
        }

        return any;
    }

    private void WriteToolChoice(JsonElement toolChoice, bool? parallelToolCalls)
    {
        string type;
        string? name = null;
        if (toolChoice.ValueKind == JsonValueKind.String)
        {
            type = toolChoice.GetString() switch
            {
                "none" => "none",
                "required" => "any",
                _ => "auto",
            };
        }
        else if (toolChoice.ValueKind == JsonValueKind.Object
                 && toolChoice.TryGetProperty("function", out var function) && function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
        {
            type = "tool";
            name = n.GetString();
        }
        else if (IsNull(toolChoice))
        {
            if (parallelToolCalls != false)
            {
                return; // Anthropic's default is auto with parallel calls, as Chat's
            }

            type = "auto";
        }
        else
        {
            Unsupported("tool_choice");
            return;
        }

        _w.WriteStartObject("tool_choice");
        _w.WriteString("type", type);
        if (name is not null)
        {
            _w.WriteString("name", name);
        }

        if (parallelToolCalls == false && type != "none")
        {
            _w.WriteBoolean("disable_parallel_tool_use", true);
        }

        _w.WriteEndObject();
    }
}

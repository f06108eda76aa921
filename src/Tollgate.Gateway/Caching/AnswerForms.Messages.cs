using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Translation;

namespace Tollgate.Gateway.Caching;

/// <summary>Anthropic Messages: a <c>message</c> ⇄ <c>message_start</c> … content blocks … <c>message_delta</c>, <c>message_stop</c>.</summary>
internal static partial class AnswerForms
{
    private static JsonObject? MessagesFromStream(ReadOnlySpan<byte> sse, List<Range> events, TokenUsage? metered)
    {
        JsonObject? message = null;
        var blocks = new SortedDictionary<int, MessagesBlock>();
        var stopped = false;
        foreach (var range in events)
        {
            var e = ParseEvent(sse[range]);
            switch (Str(e, "type"))
            {
                case "message_start" when e!["message"] is JsonObject start:
                    message = (JsonObject)start.DeepClone();
                    break;
                case "content_block_start" when e!["content_block"] is JsonObject block:
                    blocks[(int)(Long(e, "index") ?? blocks.Count)] = new MessagesBlock((JsonObject)block.DeepClone());
                    break;
                case "content_block_delta":
                    if (!blocks.TryGetValue((int)(Long(e, "index") ?? -1), out var open) || !open.Add(e!["delta"] as JsonObject))
                    {
                        return null;
                    }

                    break;
                case "message_delta" when message is not null:
                    if (e!["delta"] is JsonObject delta)
                    {
                        foreach (var (name, value) in delta)
                        {
                            message[name] = value?.DeepClone();
                        }
                    }

                    if (e["usage"] is JsonObject totals)
                    {
                        var usage = message["usage"] as JsonObject ?? new JsonObject();
                        foreach (var (name, value) in totals)
                        {
                            usage[name] = value?.DeepClone();
                        }

                        message["usage"] = usage;
                    }

                    break;
                case "message_stop":
                    stopped = true;
                    break;
                case "error" or null:
                    return null;
            }

            if (stopped)
            {
                break;
            }
        }

        if (!stopped || message is null)
        {
            return null;
        }

        var content = new JsonArray();
        foreach (var block in blocks.Values)
        {
            content.Add(block.Finish());
        }

        message["content"] = content;
        if (message["usage"] is not JsonObject && metered is { } m)
        {
            message["usage"] = new JsonObject
            {
                ["input_tokens"] = m.Input - m.Cached - m.CacheWrite,
                ["cache_creation_input_tokens"] = m.CacheWrite,
                ["cache_read_input_tokens"] = m.Cached,
                ["output_tokens"] = m.Output,
            };
        }

        return message;
    }

    private static void WriteMessagesStream(JsonObject message, Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        if (Str(message, "type") != "message" || message["content"] is not JsonArray content)
        {
            throw new ArgumentException("The stored answer is not an Anthropic message.", nameof(message));
        }

        // message_start: the message without content or stop, its usage with the input figures and a first output token.
        var usage = message["usage"] as JsonObject;
        var startUsage = usage is null ? null : With(usage, ("output_tokens", Math.Min(Long(usage, "output_tokens") ?? 0, 1)));
        WriteEvent(writer, output, "message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = With(message, ("content", new JsonArray()), ("stop_reason", null), ("stop_sequence", null), ("usage", startUsage)),
        });

        for (var index = 0; index < content.Count; index++)
        {
            if (content[index] is JsonObject block)
            {
                WriteMessagesBlock(block, index, writer, output);
            }
        }

        var end = new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject
            {
                ["stop_reason"] = message["stop_reason"]?.DeepClone(),
                ["stop_sequence"] = message["stop_sequence"]?.DeepClone(),
            },
        };
        if (usage is not null)
        {
            end["usage"] = usage.DeepClone();
        }

        WriteEvent(writer, output, "message_delta", end);
        WriteEvent(writer, output, "message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    /// <summary>One content block: its start (the block without its streamed members), deltas, stop.</summary>
    private static void WriteMessagesBlock(JsonObject block, int index, Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        var deltas = new List<JsonObject>();
        JsonObject start;
        switch (Str(block, "type"))
        {
            case "text":
                start = block["citations"] is JsonArray
                    ? With(block, ("text", string.Empty), ("citations", new JsonArray()))
                    : With(block, ("text", string.Empty));
                Pieces(Str(block, "text") ?? string.Empty).ForEach(p => deltas.Add(new JsonObject { ["type"] = "text_delta", ["text"] = p }));
                if (block["citations"] is JsonArray cited)
                {
                    foreach (var citation in cited)
                    {
                        deltas.Add(new JsonObject { ["type"] = "citations_delta", ["citation"] = citation?.DeepClone() });
                    }
                }

                break;
            case "thinking":
                start = With(block, ("thinking", string.Empty));
                if (start.ContainsKey("signature"))
                {
                    start["signature"] = string.Empty;
                }

                Pieces(Str(block, "thinking") ?? string.Empty).ForEach(p => deltas.Add(new JsonObject { ["type"] = "thinking_delta", ["thinking"] = p }));
                if (Str(block, "signature") is { } signature)
                {
                    deltas.Add(new JsonObject { ["type"] = "signature_delta", ["signature"] = signature });
                }

                break;
            case "tool_use" or "server_tool_use" or "mcp_tool_use" when block.ContainsKey("input"):
                start = With(block, ("input", new JsonObject()));
                Pieces(CompactJson(block["input"])).ForEach(p => deltas.Add(new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = p }));
                break;
            default:
                start = (JsonObject)block.DeepClone(); // redacted_thinking, tool results: whole in their start
                break;
        }

        WriteEvent(writer, output, "content_block_start", new JsonObject
        {
            ["type"] = "content_block_start",
            ["index"] = index,
            ["content_block"] = start,
        });
        foreach (var delta in deltas)
        {
            WriteEvent(writer, output, "content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = delta });
        }

        WriteEvent(writer, output, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index });
    }

    /// <summary>A content block as its deltas build it.</summary>
    private sealed class MessagesBlock(JsonObject start)
    {
        private StringBuilder? _text;
        private StringBuilder? _thinking;
        private StringBuilder? _json;
        private string? _signature;
        private JsonArray? _citations;

        /// <summary>Applies one delta; false for a delta this form cannot carry.</summary>
        public bool Add(JsonObject? delta)
        {
            switch (Str(delta, "type"))
            {
                case "text_delta":
                    Append(ref _text, Str(start, "text"), Str(delta, "text"));
                    return true;
                case "thinking_delta":
                    Append(ref _thinking, Str(start, "thinking"), Str(delta, "thinking"));
                    return true;
                case "input_json_delta":
                    (_json ??= new StringBuilder()).Append(Str(delta, "partial_json"));
                    return true;
                case "signature_delta":
                    _signature = Str(delta, "signature");
                    return true;
                case "citations_delta":
                    _citations ??= start["citations"] is JsonArray initial ? (JsonArray)initial.DeepClone() : new JsonArray();
                    _citations.Add(delta!["citation"]?.DeepClone());
                    return true;
                default:
                    return false;
            }
        }

        public JsonObject Finish()
        {
            if (_text is not null)
            {
                start["text"] = _text.ToString();
            }

            if (_thinking is not null)
            {
                start["thinking"] = _thinking.ToString();
            }

            if (_signature is not null)
            {
                start["signature"] = _signature;
            }

            if (_citations is not null)
            {
                start["citations"] = _citations;
            }

            if (_json is not null)
            {
                // The arguments must be the JSON object the API's input is; JsonException otherwise (the caller refuses).
                start["input"] = _json.Length == 0 ? new JsonObject() : JsonNode.Parse(_json.ToString(), documentOptions: Wire.DocumentOptions);
            }

            return start;
        }

        private static void Append(ref StringBuilder? text, string? initial, string? piece)
        {
            text ??= new StringBuilder(initial);
            text.Append(piece);
        }
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Translation;

namespace Tollgate.Gateway.Caching;

/// <summary>Chat Completions: <c>chat.completion</c> ⇄ <c>chat.completion.chunk</c>s ended by <c>data: [DONE]</c>.</summary>
internal static partial class AnswerForms
{
    /// <summary>Message members a chunk's delta carries with a meaning of their own; other string members are concatenated.</summary>
    private static readonly string[] ChatDeltaKnown = ["role", "content", "refusal", "tool_calls", "annotations"];

    private static JsonObject? ChatFromStream(ReadOnlySpan<byte> sse, List<Range> events, TokenUsage? metered)
    {
        JsonNode? id = null, created = null, model = null, fingerprint = null, tier = null, usage = null;
        string? role = null, finish = null;
        StringBuilder? content = null, refusal = null;
        var extras = new List<(string Name, StringBuilder Text)>();
        var annotations = new JsonArray();
        var tools = new SortedDictionary<int, ChatToolCall>();
        var done = false;
        foreach (var range in events)
        {
            var data = sse[range];
            if (data.Trim(" \r\n"u8).SequenceEqual("[DONE]"u8))
            {
                done = true;
                break;
            }

            var chunk = ParseEvent(data);
            if (chunk is null || chunk["error"] is not null)
            {
                return null;
            }

            First(ref id, chunk["id"]);
            First(ref created, chunk["created"]);
            First(ref model, chunk["model"]);
            fingerprint = chunk["system_fingerprint"]?.DeepClone() ?? fingerprint;
            tier = chunk["service_tier"]?.DeepClone() ?? tier;
            if (chunk["usage"] is JsonObject u)
            {
                usage = u.DeepClone(); // the last one: the totals
            }

            if (chunk["choices"] is not JsonArray choices)
            {
                continue;
            }

            foreach (var choice in choices)
            {
                if (choice is not JsonObject c || (Long(c, "index") ?? 0) != 0 || !IsNull(c, "logprobs"))
                {
                    return null; // a second choice or logprobs: the stored JSON would not carry them
                }

                finish = Str(c, "finish_reason") ?? finish;
                if (c["delta"] is not JsonObject delta)
                {
                    continue;
                }

                role = Str(delta, "role") ?? role;
                Append(ref content, Str(delta, "content"));
                Append(ref refusal, Str(delta, "refusal"));
                if (delta["annotations"] is JsonArray more)
                {
                    foreach (var annotation in more)
                    {
                        annotations.Add(annotation?.DeepClone());
                    }
                }

                if (delta["tool_calls"] is JsonArray calls && !ReadToolCalls(calls, tools))
                {
                    return null;
                }

                foreach (var (name, value) in delta)
                {
                    if (Array.IndexOf(ChatDeltaKnown, name) >= 0 || value is null)
                    {
                        continue;
                    }

                    if (value is not JsonValue v || !v.TryGetValue<string>(out var piece))
                    {
                        return null; // audio, a legacy function_call, ...: nothing to concatenate
                    }

                    var extra = extras.FindIndex(e => e.Name == name);
                    if (extra < 0)
                    {
                        extras.Add((name, new StringBuilder()));
                        extra = extras.Count - 1;
                    }

                    extras[extra].Text.Append(piece);
                }
            }
        }

        if (!done || finish is null)
        {
            return null;
        }

        var message = new JsonObject
        {
            ["role"] = role ?? "assistant",
            ["content"] = content?.ToString(),
            ["refusal"] = refusal?.ToString(),
        };
        foreach (var (name, text) in extras)
        {
            message[name] = text.ToString();
        }

        message["annotations"] = annotations;
        if (tools.Count > 0)
        {
            var calls = new JsonArray();
            foreach (var call in tools.Values)
            {
                calls.Add(new JsonObject
                {
                    ["id"] = call.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments.ToString() },
                });
            }

            message["tool_calls"] = calls;
        }

        var answer = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = finish,
            }),
        };
        usage ??= metered is { } m ? ChatUsage(m) : null;
        if (usage is not null)
        {
            answer["usage"] = usage;
        }

        if (tier is not null)
        {
            answer["service_tier"] = tier;
        }

        if (fingerprint is not null)
        {
            answer["system_fingerprint"] = fingerprint;
        }

        return answer;
    }

    /// <summary>
    /// Keeps the first real value of a head member: Azure OpenAI opens with a chunk of content-filter results whose
    /// <c>id</c> and <c>model</c> are empty and <c>created</c> is 0.
    /// </summary>
    private static void First(ref JsonNode? slot, JsonNode? value)
    {
        if (slot is null && value is JsonValue v && !(v.TryGetValue<string>(out var s) && s.Length == 0) && !(v.TryGetValue<long>(out var n) && n == 0))
        {
            slot = value.DeepClone();
        }
    }

    /// <summary>Adds one delta's tool-call fragments, by <c>index</c>; false for a tool call of a kind other than function.</summary>
    private static bool ReadToolCalls(JsonArray calls, SortedDictionary<int, ChatToolCall> tools)
    {
        foreach (var item in calls)
        {
            if (item is not JsonObject call)
            {
                return false;
            }

            var type = Str(call, "type");
            if (type is not null and not "function")
            {
                return false;
            }

            var index = (int)(Long(call, "index") ?? tools.Count);
            if (!tools.TryGetValue(index, out var tool))
            {
                tools[index] = tool = new ChatToolCall();
            }

            tool.Id ??= Str(call, "id");
            if (call["function"] is JsonObject function)
            {
                tool.Name ??= Str(function, "name");
                tool.Arguments.Append(Str(function, "arguments"));
            }
        }

        return true;
    }

    private static JsonObject ChatUsage(TokenUsage usage) => new()
    {
        ["prompt_tokens"] = usage.Input,
        ["completion_tokens"] = usage.Output,
        ["total_tokens"] = usage.Total,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.Cached },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.Reasoning },
    };

    private static void WriteChatStream(JsonObject answer, bool includeUsage, Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        if (answer["choices"] is not JsonArray { Count: 1 } choices || choices[0] is not JsonObject choice || choice["message"] is not JsonObject message)
        {
            throw new ArgumentException("The stored answer is not a chat completion with one choice.", nameof(answer));
        }

        var chunk = new ChatChunkWriter(answer, includeUsage, writer, output);

        // First the role, as OpenAI starts: content "" for a text answer, null for one of tool calls only.
        chunk.Begin();
        writer.WriteString("role", Str(message, "role") ?? "assistant");
        writer.WritePropertyName("content");
        if (message["content"] is JsonValue contentValue && contentValue.TryGetValue<string>(out _))
        {
            writer.WriteStringValue(string.Empty);
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteNull("refusal");
        chunk.End(null);

        foreach (var (name, value) in message)
        {
            if (name is "role" or "annotations" or "tool_calls" || value is not JsonValue v || !v.TryGetValue<string>(out var text))
            {
                continue; // content, refusal and other text members (reasoning_content) stream; the rest cannot
            }

            foreach (var piece in Pieces(text))
            {
                chunk.Begin();
                writer.WriteString(name, piece);
                chunk.End(null);
            }
        }

        if (message["annotations"] is JsonArray { Count: > 0 } annotations)
        {
            chunk.Begin();
            writer.WritePropertyName("annotations");
            annotations.WriteTo(writer);
            chunk.End(null);
        }

        if (message["tool_calls"] is JsonArray calls)
        {
            for (var i = 0; i < calls.Count; i++)
            {
                WriteChatToolCall(calls[i] as JsonObject, i, chunk, writer);
            }
        }

        chunk.Begin();
        chunk.End(Str(choice, "finish_reason") ?? "stop");

        if (includeUsage && answer["usage"] is JsonObject usage)
        {
            BeginEvent(writer, output, null);
            writer.WriteStartObject();
            chunk.WriteHead();
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            writer.WritePropertyName("usage");
            usage.WriteTo(writer);
            writer.WriteEndObject();
            EndEvent(writer, output);
        }

        Wire.Put(output, "data: [DONE]\n\n"u8);
    }

    /// <summary>One tool call: its id, type and name with empty arguments, then the arguments in pieces.</summary>
    private static void WriteChatToolCall(JsonObject? call, int index, ChatChunkWriter chunk, Utf8JsonWriter writer)
    {
        var function = call?["function"] as JsonObject;
        chunk.Begin();
        writer.WriteStartArray("tool_calls");
        writer.WriteStartObject();
        writer.WriteNumber("index", index);
        writer.WriteString("id", Str(call, "id"));
        writer.WriteString("type", "function");
        writer.WriteStartObject("function");
        writer.WriteString("name", Str(function, "name"));
        writer.WriteString("arguments", string.Empty);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
        chunk.End(null);

        foreach (var piece in Pieces(Str(function, "arguments") ?? string.Empty))
        {
            chunk.Begin();
            writer.WriteStartArray("tool_calls");
            writer.WriteStartObject();
            writer.WriteNumber("index", index);
            writer.WriteStartObject("function");
            writer.WriteString("arguments", piece);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndArray();
            chunk.End(null);
        }
    }

    private sealed class ChatToolCall
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }

    /// <summary>Writes chunks of one answer: the same head in each, the delta between <see cref="Begin"/> and <see cref="End"/>.</summary>
    private sealed class ChatChunkWriter(JsonObject answer, bool includeUsage, Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        public void Begin()
        {
            BeginEvent(writer, output, null);
            writer.WriteStartObject();
            WriteHead();
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("delta");
        }

        public void End(string? finishReason)
        {
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", finishReason);
            writer.WriteEndObject();
            writer.WriteEndArray();
            if (includeUsage)
            {
                writer.WriteNull("usage");
            }

            writer.WriteEndObject();
            EndEvent(writer, output);
        }

        /// <summary>id, object, created, model, and service_tier and system_fingerprint when the answer has them.</summary>
        public void WriteHead()
        {
            Copy("id");
            writer.WriteString("object", "chat.completion.chunk");
            Copy("created");
            Copy("model");
            if (!IsNull(answer, "service_tier"))
            {
                Copy("service_tier");
            }

            if (!IsNull(answer, "system_fingerprint"))
            {
                Copy("system_fingerprint");
            }
        }

        private void Copy(string name)
        {
            writer.WritePropertyName(name);
            if (answer[name] is { } value)
            {
                value.WriteTo(writer);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
    }
}

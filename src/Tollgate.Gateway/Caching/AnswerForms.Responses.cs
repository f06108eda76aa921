using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Caching;

/// <summary>OpenAI Responses: the <c>response</c> object ⇄ <c>response.created</c> … <c>response.completed</c>.</summary>
internal static partial class AnswerForms
{
    private static JsonObject? ResponsesFromStream(ReadOnlySpan<byte> sse, List<Range> events, TokenUsage? metered)
    {
        var items = new SortedDictionary<int, JsonNode?>();
        foreach (var range in events)
        {
            var e = ParseEvent(sse[range]);
            switch (Str(e, "type"))
            {
                case "response.output_item.done" when e!["item"] is JsonObject item:
                    items[(int)(Long(e, "output_index") ?? items.Count)] = item.DeepClone();
                    break;
                case "response.completed" when e!["response"] is JsonObject completed:
                    var response = (JsonObject)completed.DeepClone();
                    if (response["output"] is not JsonArray { Count: > 0 } && items.Count > 0)
                    {
                        response["output"] = new JsonArray([.. items.Values]); // a terminal event that left its items out
                    }

                    if (response["usage"] is not JsonObject && metered is { } m)
                    {
                        response["usage"] = new JsonObject
                        {
                            ["input_tokens"] = m.Input,
                            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = m.Cached },
                            ["output_tokens"] = m.Output,
                            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = m.Reasoning },
                            ["total_tokens"] = m.Total,
                        };
                    }

                    return response;
                case "response.failed" or "response.incomplete" or "response.completed" or "error" or null:
                    return null;
            }
        }

        return null; // cut before its terminal event
    }

    private static void WriteResponsesStream(JsonObject response, Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        if (response["output"] is not JsonArray items)
        {
            throw new ArgumentException("The stored answer is not a Responses API response.", nameof(response));
        }

        var events = new ResponsesEventWriter(writer, output);
        var pending = With(response, ("status", "in_progress"), ("output", new JsonArray()), ("usage", null));
        events.Write("response.created", new JsonObject { ["response"] = pending });
        events.Write("response.in_progress", new JsonObject { ["response"] = pending.DeepClone() });
        for (var index = 0; index < items.Count; index++)
        {
            if (items[index] is JsonObject item)
            {
                WriteResponsesItem(item, index, events);
            }
        }

        events.Write("response.completed", new JsonObject { ["response"] = response.DeepClone() });
    }

    /// <summary>One output item: added (without its streamed members), its parts or arguments in pieces, done (whole).</summary>
    private static void WriteResponsesItem(JsonObject item, int index, ResponsesEventWriter events)
    {
        var id = Str(item, "id");
        var type = Str(item, "type");
        var added = type switch
        {
            "message" => With(item, ("content", new JsonArray())),
            "function_call" => With(item, ("arguments", string.Empty)),
            "reasoning" when item.ContainsKey("summary") => With(item, ("summary", new JsonArray())),
            _ => (JsonObject)item.DeepClone(),
        };
        if (added.ContainsKey("status"))
        {
            added["status"] = "in_progress";
        }

        events.Write("response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = added });
        if (type == "message" && item["content"] is JsonArray parts)
        {
            for (var part = 0; part < parts.Count; part++)
            {
                if (parts[part] is JsonObject content)
                {
                    WriteResponsesPart(content, id, index, part, events);
                }
            }
        }
        else if (type == "function_call")
        {
            var arguments = Str(item, "arguments") ?? string.Empty;
            foreach (var piece in Pieces(arguments))
            {
                events.Write("response.function_call_arguments.delta", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["delta"] = piece });
            }

            events.Write("response.function_call_arguments.done", new JsonObject { ["item_id"] = id, ["output_index"] = index, ["arguments"] = arguments });
        }

        events.Write("response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() });
    }

    /// <summary>One content part of a message: added (empty), text or refusal deltas, their done, the annotations, done (whole).</summary>
    private static void WriteResponsesPart(JsonObject part, string? id, int index, int content, ResponsesEventWriter events)
    {
        JsonObject At() => new() { ["item_id"] = id, ["output_index"] = index, ["content_index"] = content };

        var type = Str(part, "type");
        var added = type switch
        {
            "output_text" => With(part, ("text", string.Empty)),
            "refusal" => With(part, ("refusal", string.Empty)),
            _ => (JsonObject)part.DeepClone(),
        };
        if (type == "output_text" && added.ContainsKey("annotations"))
        {
            added["annotations"] = new JsonArray();
        }

        var head = At();
        head["part"] = added;
        events.Write("response.content_part.added", head);
        if (type == "output_text")
        {
            var text = Str(part, "text") ?? string.Empty;
            foreach (var piece in Pieces(text))
            {
                var delta = At();
                delta["delta"] = piece;
                delta["logprobs"] = new JsonArray();
                events.Write("response.output_text.delta", delta);
            }

            if (part["annotations"] is JsonArray annotations)
            {
                for (var i = 0; i < annotations.Count; i++)
                {
                    var annotation = At();
                    annotation["annotation_index"] = i;
                    annotation["annotation"] = annotations[i]?.DeepClone();
                    events.Write("response.output_text.annotation.added", annotation);
                }
            }

            var done = At();
            done["text"] = text;
            done["logprobs"] = new JsonArray();
            events.Write("response.output_text.done", done);
        }
        else if (type == "refusal")
        {
            var refusal = Str(part, "refusal") ?? string.Empty;
            foreach (var piece in Pieces(refusal))
            {
                var delta = At();
                delta["delta"] = piece;
                events.Write("response.refusal.delta", delta);
            }

            var done = At();
            done["refusal"] = refusal;
            events.Write("response.refusal.done", done);
        }

        var partDone = At();
        partDone["part"] = part.DeepClone();
        events.Write("response.content_part.done", partDone);
    }

    /// <summary>Writes Responses events: <c>event:</c> line, then data that starts with <c>type</c> and <c>sequence_number</c>.</summary>
    private sealed class ResponsesEventWriter(Utf8JsonWriter writer, IBufferWriter<byte> output)
    {
        private long _sequence;

        public void Write(string type, JsonObject fields)
        {
            BeginEvent(writer, output, type);
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteNumber("sequence_number", _sequence++);
            foreach (var (name, value) in fields)
            {
                writer.WritePropertyName(name);
                if (value is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    value.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
            EndEvent(writer, output);
        }
    }
}

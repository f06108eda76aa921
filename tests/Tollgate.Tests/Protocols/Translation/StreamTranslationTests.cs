using System.Text;
using System.Text.Json;
using Translator = Tollgate.Gateway.Protocols.Translation.Translation;

namespace Tollgate.Tests.Protocols.Translation;

/// <summary>Streamed answers, event by event, both ways.</summary>
public class StreamTranslationTests
{
    [Fact]
    public void Documented_anthropic_text_stream_becomes_chat_chunks_without_usage_when_not_asked()
    {
        var (sse, stream) = TranslationKit.Stream(Translator.ChatToMessages, DocExamples.AnthropicTextStream);

        Assert.True(stream.Finished);
        var data = TranslationKit.ChatData(sse);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = TranslationKit.ChatChunks(sse);
        Assert.Equal(4, chunks.Count); // role, two texts, finish: the ping and block events write nothing
        foreach (var chunk in chunks)
        {
            Assert.Equal("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", chunk.Str("id"));
            Assert.Equal("chat.completion.chunk", chunk.Str("object"));
            Assert.Equal("claude-opus-4-1-20250805", chunk.Str("model"));
            Assert.Equal(chunks[0].Num("created"), chunk.Num("created"));
            Assert.False(chunk.Has("usage"));
            Assert.Equal(0, Assert.Single(chunk.GetProperty("choices").EnumerateArray()).Num("index"));
        }

        Assert.Equal("assistant", Delta(chunks[0]).Str("role"));
        Assert.Equal("Hello", Delta(chunks[1]).Str("content"));
        Assert.Equal("!\n\"quoted\" ☀", Delta(chunks[2]).Str("content"));
        Assert.Equal(JsonValueKind.Null, chunks[1].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        Assert.Empty(Delta(chunks[3]).EnumerateObject());
        Assert.Equal("stop", chunks[3].GetProperty("choices")[0].Str("finish_reason"));
    }

    [Fact]
    public void With_include_usage_a_usage_chunk_with_empty_choices_comes_before_done()
    {
        var events = DocExamples.AnthropicTextStream.ToArray();
        events[0] = events[0].Replace("\"input_tokens\": 25", "\"input_tokens\": 25, \"cache_read_input_tokens\": 1000, \"cache_creation_input_tokens\": 200", StringComparison.Ordinal);
        var (sse, _) = TranslationKit.Stream(Translator.ChatToMessages, events, includeUsage: true);

        var data = TranslationKit.ChatData(sse);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = TranslationKit.ChatChunks(sse);
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        var last = chunks[^1];
        Assert.Empty(last.GetProperty("choices").EnumerateArray());
        var usage = last.GetProperty("usage");
        Assert.Equal(25 + 1000 + 200, usage.Num("prompt_tokens"));
        Assert.Equal(15, usage.Num("completion_tokens"));
        Assert.Equal(25 + 1000 + 200 + 15, usage.Num("total_tokens"));
        Assert.Equal(1000, usage.GetProperty("prompt_tokens_details").Num("cached_tokens"));
    }

    [Fact]
    public void Documented_anthropic_tool_use_stream_becomes_tool_call_deltas_ending_in_tool_calls()
    {
        var (sse, stream) = TranslationKit.Stream(Translator.ChatToMessages, DocExamples.AnthropicToolUseStream);

        Assert.True(stream.Finished);
        var chunks = TranslationKit.ChatChunks(sse);
        var text = string.Concat(chunks.Select(Delta).Where(d => d.Has("content")).Select(d => d.Str("content")));
        Assert.Equal("Okay, let's check the weather for San Francisco, CA:", text);

        var toolDeltas = chunks.Select(Delta).Where(d => d.Has("tool_calls")).Select(d => Assert.Single(d.GetProperty("tool_calls").EnumerateArray())).ToList();
        var first = toolDeltas[0];
        Assert.Equal(0, first.Num("index"));
        Assert.Equal("toolu_01T1x1fJ34qAmk2tNTrN7Up6", first.Str("id"));
        Assert.Equal("function", first.Str("type"));
        Assert.Equal("get_weather", first.GetProperty("function").Str("name"));
        Assert.Equal("", first.GetProperty("function").Str("arguments"));
        Assert.All(toolDeltas.Skip(1), d => Assert.False(d.Has("id")));
        Assert.All(toolDeltas, d => Assert.Equal(0, d.Num("index")));
        var arguments = string.Concat(toolDeltas.Select(d => d.GetProperty("function").Str("arguments")));
        Assert.True(TranslationKit.JsonEquals("""{"location": "San Francisco, CA", "unit": "fahrenheit"}""", arguments));

        Assert.Equal("tool_calls", chunks[^1].GetProperty("choices")[0].Str("finish_reason"));
        Assert.Single(chunks, c => c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public void Parallel_anthropic_tool_uses_get_their_own_tool_call_indexes_and_a_tool_turn_never_ends_in_stop()
    {
        string[] events =
        [
            """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two cities."}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}""",
            """{"type":"content_block_stop","index":0}""",
            """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"get_weather","input":{}}}""",
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":\"Paris\"}"}}""",
            """{"type":"content_block_stop","index":1}""",
            """{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"get_weather","input":{}}}""",
            """{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\":\"Bogotá\"}"}}""",
            """{"type":"content_block_stop","index":2}""",
            """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":40}}""",
            """{"type":"message_stop"}""",
        ];
        var (sse, _) = TranslationKit.Stream(Translator.ChatToMessages, events);

        var chunks = TranslationKit.ChatChunks(sse);
        Assert.DoesNotContain("Two cities", sse, StringComparison.Ordinal);
        var calls = chunks.Select(Delta).Where(d => d.Has("tool_calls")).Select(d => d.GetProperty("tool_calls")[0]).ToList();
        Assert.Equal([0, 0, 1, 1], calls.Select(c => c.Num("index")));
        Assert.Equal("toolu_a", calls[0].Str("id"));
        Assert.Equal("toolu_b", calls[2].Str("id"));
        Assert.Equal("{\"location\":\"Bogotá\"}", calls[3].GetProperty("function").Str("arguments"));
        Assert.Equal("tool_calls", chunks[^1].GetProperty("choices")[0].Str("finish_reason"));
    }

    [Fact]
    public void An_anthropic_error_event_becomes_a_chat_error_data_line_and_ends_the_stream()
    {
        var (sse, stream) = TranslationKit.Stream(Translator.ChatToMessages, [DocExamples.AnthropicTextStream[0], DocExamples.AnthropicTextStream[3], DocExamples.AnthropicStreamError, """{"type":"message_stop"}"""]);

        Assert.True(stream.Finished);
        var data = TranslationKit.ChatData(sse);
        Assert.DoesNotContain("[DONE]", data);
        var error = TranslationKit.Parse(Encoding.UTF8.GetBytes(data[^1])).GetProperty("error");
        Assert.Equal("Overloaded", error.Str("message"));
        Assert.Equal("server_error", error.Str("type"));
        Assert.Equal("overloaded", error.Str("code"));
    }

    [Fact]
    public void Documented_chat_text_stream_becomes_anthropic_events_with_message_delta_held_for_usage()
    {
        var translation = Translator.MessagesToChat;
        var stream = translation.CreateStream(false, "route-alias");
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var data in DocExamples.ChatTextStream[..4])
        {
            stream.OnEvent(Encoding.UTF8.GetBytes(data), output);
        }

        // The finish chunk closed the block but the message waits for the usage chunk.
        var before = TranslationKit.AnthropicEvents(Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal("content_block_stop", before[^1].Name);
        Assert.False(stream.Finished);

        foreach (var data in DocExamples.ChatTextStream[4..])
        {
            stream.OnEvent(Encoding.UTF8.GetBytes(data), output);
        }

        Assert.True(stream.Finished);
        var events = TranslationKit.AnthropicEvents(Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(
            ["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Name));

        var message = events[0].Data.GetProperty("message");
        Assert.Equal("chatcmpl-123", message.Str("id"));
        Assert.Equal("message", message.Str("type"));
        Assert.Equal("assistant", message.Str("role"));
        Assert.Equal("gpt-4o-mini", message.Str("model"));
        Assert.Empty(message.GetProperty("content").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("stop_reason").ValueKind);
        Assert.True(message.GetProperty("usage").Has("input_tokens"));
        Assert.True(message.GetProperty("usage").Has("output_tokens"));

        Assert.Equal(0, events[1].Data.Num("index"));
        Assert.Equal("text", events[1].Data.GetProperty("content_block").Str("type"));
        Assert.Equal("", events[1].Data.GetProperty("content_block").Str("text"));
        Assert.Equal("text_delta", events[2].Data.GetProperty("delta").Str("type"));
        Assert.Equal("Hello", events[2].Data.GetProperty("delta").Str("text"));
        Assert.Equal("!\n\"quoted\" ☀", events[3].Data.GetProperty("delta").Str("text"));
        Assert.Equal(0, events[4].Data.Num("index"));

        var delta = events[5].Data;
        Assert.Equal("end_turn", delta.GetProperty("delta").Str("stop_reason"));
        Assert.Equal(JsonValueKind.Null, delta.GetProperty("delta").GetProperty("stop_sequence").ValueKind);
        Assert.Equal(2006 - 1920, delta.GetProperty("usage").Num("input_tokens"));
        Assert.Equal(1920, delta.GetProperty("usage").Num("cache_read_input_tokens"));
        Assert.Equal(12, delta.GetProperty("usage").Num("output_tokens"));
    }

    [Fact]
    public void Documented_chat_tool_call_stream_becomes_a_tool_use_block_ending_in_tool_use()
    {
        var (sse, stream) = TranslationKit.Stream(Translator.MessagesToChat, DocExamples.ChatToolCallStream);

        Assert.True(stream.Finished);
        var events = TranslationKit.AnthropicEvents(sse);
        Assert.Equal("message_start", events[0].Name);
        var start = events[1];
        Assert.Equal("content_block_start", start.Name);
        Assert.Equal(0, start.Data.Num("index"));
        var block = start.Data.GetProperty("content_block");
        Assert.Equal("tool_use", block.Str("type"));
        Assert.Equal("call_DdmO9pD3xa9XTPNJ32zg2hcA", block.Str("id"));
        Assert.Equal("get_weather", block.Str("name"));
        Assert.Empty(block.GetProperty("input").EnumerateObject());

        var deltas = events.Where(e => e.Name == "content_block_delta").Select(e => e.Data).ToList();
        Assert.All(deltas, d => Assert.Equal("input_json_delta", d.GetProperty("delta").Str("type")));
        Assert.All(deltas, d => Assert.Equal(0, d.Num("index")));
        Assert.Equal("{\"location\":\"Paris, France\"}", string.Concat(deltas.Select(d => d.GetProperty("delta").Str("partial_json"))));

        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], events[^3..].Select(e => e.Name));
        Assert.Equal("tool_use", events[^2].Data.GetProperty("delta").Str("stop_reason"));
        Assert.Equal(81, events[^2].Data.GetProperty("usage").Num("input_tokens"));
        Assert.Equal(15, events[^2].Data.GetProperty("usage").Num("output_tokens"));
    }

    [Fact]
    public void Parallel_chat_tool_calls_after_text_become_separate_blocks_and_stop_with_tool_calls_is_tool_use()
    {
        string[] chunks =
        [
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Checking."},"finish_reason":null}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"location\":"}}]},"finish_reason":null}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}""",
            """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            "[DONE]",
        ];
        var (sse, stream) = TranslationKit.Stream(Translator.MessagesToChat, chunks);

        Assert.True(stream.Finished);
        var events = TranslationKit.AnthropicEvents(sse);
        Assert.Equal(
            ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
             "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Name));
        Assert.Equal([0, 1, 2], events.Where(e => e.Name == "content_block_start").Select(e => e.Data.Num("index")));
        Assert.Equal("call_b", events[8].Data.GetProperty("content_block").Str("id"));
        Assert.Equal("get_time", events[8].Data.GetProperty("content_block").Str("name"));
        Assert.Equal(2, events[9].Data.Num("index"));
        Assert.Equal("tool_use", events[^2].Data.GetProperty("delta").Str("stop_reason"));
        Assert.Equal(0, events[^2].Data.GetProperty("usage").Num("output_tokens")); // no usage chunk came: [DONE] closed the message
    }

    [Fact]
    public void A_chat_stream_error_line_becomes_an_anthropic_error_event()
    {
        var (sse, stream) = TranslationKit.Stream(Translator.MessagesToChat,
            [DocExamples.ChatTextStream[0], DocExamples.ChatTextStream[1], """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""", "[DONE]"]);

        Assert.True(stream.Finished);
        var events = TranslationKit.AnthropicEvents(sse);
        Assert.Equal("error", events[^1].Name);
        Assert.Equal("api_error", events[^1].Data.GetProperty("error").Str("type"));
        Assert.Equal("The server had an error while processing your request.", events[^1].Data.GetProperty("error").Str("message"));
        Assert.DoesNotContain(events, e => e.Name == "message_stop");
    }

    [Fact]
    public void Chat_length_and_content_filter_finish_reasons_become_max_tokens_and_refusal()
    {
        foreach (var (finish, stop) in new[] { ("length", "max_tokens"), ("content_filter", "refusal") })
        {
            var (sse, _) = TranslationKit.Stream(Translator.MessagesToChat,
                [DocExamples.ChatTextStream[1], DocExamples.ChatTextStream[3].Replace("\"stop\"", "\"" + finish + "\"", StringComparison.Ordinal), DocExamples.ChatTextStream[4], "[DONE]"]);
            Assert.Equal(stop, TranslationKit.AnthropicEvents(sse).Single(e => e.Name == "message_delta").Data.GetProperty("delta").Str("stop_reason"));
        }
    }

    private static JsonElement Delta(JsonElement chunk) => chunk.GetProperty("choices")[0].GetProperty("delta");
}

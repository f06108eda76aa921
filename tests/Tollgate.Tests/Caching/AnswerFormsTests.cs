using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Providers;
using Tollgate.Tests.Protocols.Translation;

namespace Tollgate.Tests.Caching;

/// <summary>A cached answer's two forms: a finished stream → the JSON body, and the JSON body → a stream of the same API.</summary>
public class AnswerFormsTests
{
    // ---- Chat Completions ----

    // OpenAI function calling guide, parallel function calls, streamed: two calls one after the other, no usage chunk.
    private static readonly string[] ChatParallelToolStream =
    [
        """{"id":"chatcmpl-789","object":"chat.completion.chunk","created":1727212345,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","service_tier":"default","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_12345xyz","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-789","object":"chat.completion.chunk","created":1727212345,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","service_tier":"default","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\": \"Paris, France\"}"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-789","object":"chat.completion.chunk","created":1727212345,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","service_tier":"default","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_67890abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-789","object":"chat.completion.chunk","created":1727212345,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","service_tier":"default","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"location\": \"Bogotá, "}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-789","object":"chat.completion.chunk","created":1727212345,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","service_tier":"default","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"Colombia\"}"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-789","object":"chat.completion.chunk","created":1727212345,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","service_tier":"default","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}""",
        "[DONE]",
    ];

    private static readonly TokenUsage Metered = new(Input: 2006, Cached: 1920, CacheWrite: 0, Output: 300, Reasoning: 64);

    /// <summary>Chat Completions usage that carries <see cref="Metered"/>.</summary>
    private static void AssertChatUsageIsMetered(JsonElement usage)
    {
        Assert.Equal(2006, usage.Num("prompt_tokens"));
        Assert.Equal(300, usage.Num("completion_tokens"));
        Assert.Equal(2306, usage.Num("total_tokens"));
        Assert.Equal(1920, usage.GetProperty("prompt_tokens_details").Num("cached_tokens"));
        Assert.Equal(64, usage.GetProperty("completion_tokens_details").Num("reasoning_tokens"));
    }

    [Fact]
    public void Documented_chat_text_stream_becomes_a_chat_completion()
    {
        var answer = Json(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(DocExamples.ChatTextStream)));

        Assert.Equal("chatcmpl-123", answer.Str("id"));
        Assert.Equal("chat.completion", answer.Str("object"));
        Assert.Equal(1694268190, answer.Num("created"));
        Assert.Equal("gpt-4o-mini", answer.Str("model"));
        Assert.Equal("fp_44709d6fcb", answer.Str("system_fingerprint"));
        Assert.False(answer.Has("service_tier"));
        var choice = Assert.Single(answer.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.Num("index"));
        Assert.Equal("stop", choice.Str("finish_reason"));
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        var message = choice.GetProperty("message");
        Assert.Equal("assistant", message.Str("role"));
        Assert.Equal("Hello!\n\"quoted\" ☀", message.Str("content"));
        Assert.Equal(JsonValueKind.Null, message.GetProperty("refusal").ValueKind);
        Assert.Empty(message.GetProperty("annotations").EnumerateArray());
        Assert.False(message.Has("tool_calls"));
        var usage = answer.GetProperty("usage");
        Assert.Equal(2006, usage.Num("prompt_tokens"));
        Assert.Equal(12, usage.Num("completion_tokens"));
        Assert.Equal(2018, usage.Num("total_tokens"));
        Assert.Equal(1920, usage.GetProperty("prompt_tokens_details").Num("cached_tokens"));
    }

    [Fact]
    public void Documented_chat_tool_call_stream_becomes_a_message_with_the_tool_call_and_null_content()
    {
        var answer = Json(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(DocExamples.ChatToolCallStream)));

        var choice = Assert.Single(answer.GetProperty("choices").EnumerateArray());
        Assert.Equal("tool_calls", choice.Str("finish_reason"));
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("call_DdmO9pD3xa9XTPNJ32zg2hcA", call.Str("id"));
        Assert.Equal("function", call.Str("type"));
        Assert.Equal("get_weather", call.GetProperty("function").Str("name"));
        Assert.Equal("""{"location":"Paris, France"}""", call.GetProperty("function").Str("arguments"));
        Assert.Equal(96, answer.GetProperty("usage").Num("total_tokens"));
    }

    [Fact]
    public void Two_parallel_chat_tool_calls_keep_their_order_ids_and_arguments_and_the_metered_usage_fills_in()
    {
        var answer = Json(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(ChatParallelToolStream), Metered));

        Assert.Equal("default", answer.Str("service_tier"));
        Assert.Equal("fp_5050236cbd", answer.Str("system_fingerprint"));
        var calls = answer.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal(["call_12345xyz", "call_67890abc"], calls.Select(c => c.Str("id")));
        Assert.Equal(["get_weather", "get_weather"], calls.Select(c => c.GetProperty("function").Str("name")));
        Assert.Equal("""{"location": "Paris, France"}""", calls[0].GetProperty("function").Str("arguments"));
        Assert.Equal("""{"location": "Bogotá, Colombia"}""", calls[1].GetProperty("function").Str("arguments"));
        AssertChatUsageIsMetered(answer.GetProperty("usage"));
    }

    [Fact]
    public void A_chat_stream_without_usage_has_none_unless_the_metered_usage_is_given()
    {
        var withoutUsageChunk = DocExamples.ChatTextStream.Where(d => !d.Contains("\"choices\":[]", StringComparison.Ordinal)).ToArray();

        Assert.False(Json(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(withoutUsageChunk))).Has("usage"));
        AssertChatUsageIsMetered(Json(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(withoutUsageChunk), Metered)).GetProperty("usage"));
    }

    [Fact]
    public void An_azure_chat_stream_takes_its_head_from_the_first_real_chunk_not_the_content_filter_chunk()
    {
        // Azure OpenAI streaming: a first chunk with prompt_filter_results and empty head fields, content_filter_results in choices.
        string[] azure =
        [
            """{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}""",
            """{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1727212345,"id":"chatcmpl-AZ1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_b2ffeb16ee"}""",
            """{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi there"},"finish_reason":null,"index":0,"logprobs":null}],"created":1727212345,"id":"chatcmpl-AZ1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_b2ffeb16ee"}""",
            """{"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1727212345,"id":"chatcmpl-AZ1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_b2ffeb16ee"}""",
            "[DONE]",
        ];

        var answer = Json(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(azure)));

        Assert.Equal("chatcmpl-AZ1", answer.Str("id"));
        Assert.Equal(1727212345, answer.Num("created"));
        Assert.Equal("gpt-4o-2024-08-06", answer.Str("model"));
        Assert.Equal("Hi there", answer.GetProperty("choices")[0].GetProperty("message").Str("content"));
    }

    [Fact]
    public void A_stored_chat_answer_streams_as_openai_does()
    {
        var stored = AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(ChatParallelToolStream), Metered)!;
        var text = """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"The weather in Paris is sunny and mild today.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}""";

        var sse = Write(WireApi.ChatCompletions, Encoding.UTF8.GetBytes(text), includeUsage: true);
        var data = TranslationKit.ChatData(sse);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = TranslationKit.ChatChunks(sse);
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.Str("object")));
        Assert.All(chunks, c => Assert.Equal("chatcmpl-1", c.Str("id")));
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        var first = chunks[0].GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("assistant", first.Str("role"));
        Assert.Equal(string.Empty, first.Str("content"));
        var pieces = chunks.Skip(1).SkipLast(2).Select(c => c.GetProperty("choices")[0].GetProperty("delta").Str("content")).ToList();
        Assert.True(pieces.Count >= 2, "the content comes in several chunks");
        Assert.Equal("The weather in Paris is sunny and mild today.", string.Concat(pieces));
        var last = chunks[^2].GetProperty("choices")[0];
        Assert.Empty(last.GetProperty("delta").EnumerateObject());
        Assert.Equal("stop", last.Str("finish_reason"));
        Assert.Empty(chunks[^1].GetProperty("choices").EnumerateArray());
        Assert.Equal(14, chunks[^1].GetProperty("usage").Num("total_tokens"));

        // Tool calls: id, type and name with empty arguments first, then the arguments in pieces; no usage chunk unless asked.
        var tools = TranslationKit.ChatChunks(Write(WireApi.ChatCompletions, stored, includeUsage: false));
        Assert.All(tools, c => Assert.False(c.Has("usage")));
        Assert.All(tools, c => Assert.NotEmpty(c.GetProperty("choices").EnumerateArray()));
        Assert.Equal(JsonValueKind.Null, tools[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("content").ValueKind);
        var deltas = tools.Select(c => c.GetProperty("choices")[0].GetProperty("delta")).Where(d => d.Has("tool_calls")).Select(d => Assert.Single(d.GetProperty("tool_calls").EnumerateArray())).ToList();
        var starts = deltas.Where(d => d.Has("id")).ToList();
        Assert.Equal(["call_12345xyz", "call_67890abc"], starts.Select(d => d.Str("id")));
        Assert.All(starts, d => Assert.Equal("function", d.Str("type")));
        Assert.All(starts, d => Assert.Equal(string.Empty, d.GetProperty("function").Str("arguments")));
        Assert.Equal([0, 1], starts.Select(d => d.Num("index")));
        Assert.True(deltas.Count(d => d.Num("index") == 1 && !d.Has("id")) >= 2, "the arguments come in several chunks");
        Assert.Equal("""{"location": "Bogotá, Colombia"}""", string.Concat(deltas.Where(d => d.Num("index") == 1).Select(d => d.GetProperty("function").Str("arguments"))));
        Assert.Equal("tool_calls", tools[^1].GetProperty("choices")[0].Str("finish_reason"));
    }

    [Fact]
    public void Chat_streams_that_carry_more_than_the_json_form_are_not_stored()
    {
        var secondChoice = DocExamples.ChatTextStream.Select(d => d.Replace("\"index\":0,\"delta\":{\"content\":\"Hello\"}", "\"index\":1,\"delta\":{\"content\":\"Hello\"}", StringComparison.Ordinal)).ToArray();
        var logprobs = DocExamples.ChatTextStream.Select(d => d.Replace("{\"content\":\"Hello\"},\"logprobs\":null", "{\"content\":\"Hello\"},\"logprobs\":{\"content\":[]}", StringComparison.Ordinal)).ToArray();
        string[] error = [DocExamples.ChatTextStream[0], """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""", "[DONE]"];

        Assert.Null(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(secondChoice)));
        Assert.Null(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(logprobs)));
        Assert.Null(AnswerForms.FromStream(WireApi.ChatCompletions, ChatSse(error)));
    }

    // ---- Anthropic Messages ----

    // Anthropic extended thinking guide, "Streaming thinking" (no usage in its events).
    private static readonly string[] AnthropicThinkingStream =
    [
        """{"type": "message_start", "message": {"id": "msg_01XAbc9Gk7F5WbRoKq5NjFh2", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5", "stop_reason": null, "stop_sequence": null}}""",
        """{"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}""",
        """{"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147"}}""",
        """{"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21"}}""",
        """{"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."}}""",
        """{"type": "content_block_stop", "index": 0}""",
        """{"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}""",
        """{"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "The greatest common divisor of 1071 and 462 is **21**."}}""",
        """{"type": "content_block_stop", "index": 1}""",
        """{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}}""",
        """{"type": "message_stop"}""",
    ];

    [Fact]
    public void Documented_anthropic_text_stream_becomes_a_message()
    {
        var answer = Json(AnswerForms.FromStream(WireApi.Messages, NamedSse(DocExamples.AnthropicTextStream)));

        Assert.Equal("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", answer.Str("id"));
        Assert.Equal("message", answer.Str("type"));
        Assert.Equal("assistant", answer.Str("role"));
        Assert.Equal("claude-opus-4-1-20250805", answer.Str("model"));
        var block = Assert.Single(answer.GetProperty("content").EnumerateArray());
        Assert.Equal("text", block.Str("type"));
        Assert.Equal("Hello!\n\"quoted\" ☀", block.Str("text"));
        Assert.Equal("end_turn", answer.Str("stop_reason"));
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("stop_sequence").ValueKind);
        Assert.Equal(25, answer.GetProperty("usage").Num("input_tokens"));
        Assert.Equal(15, answer.GetProperty("usage").Num("output_tokens"));
    }

    [Fact]
    public void Documented_anthropic_tool_use_stream_becomes_a_message_with_the_parsed_input()
    {
        var answer = Json(AnswerForms.FromStream(WireApi.Messages, NamedSse(DocExamples.AnthropicToolUseStream)));

        var blocks = answer.GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(2, blocks.Count);
        Assert.Equal("Okay, let's check the weather for San Francisco, CA:", blocks[0].Str("text"));
        Assert.Equal("tool_use", blocks[1].Str("type"));
        Assert.Equal("toolu_01T1x1fJ34qAmk2tNTrN7Up6", blocks[1].Str("id"));
        Assert.Equal("get_weather", blocks[1].Str("name"));
        Assert.Equal("San Francisco, CA", blocks[1].GetProperty("input").Str("location"));
        Assert.Equal("fahrenheit", blocks[1].GetProperty("input").Str("unit"));
        Assert.Equal("tool_use", answer.Str("stop_reason"));
        Assert.Equal(472, answer.GetProperty("usage").Num("input_tokens"));
        Assert.Equal(89, answer.GetProperty("usage").Num("output_tokens"));
    }

    [Fact]
    public void Documented_anthropic_thinking_stream_keeps_thinking_and_signature_and_takes_the_metered_usage()
    {
        var answer = Json(AnswerForms.FromStream(WireApi.Messages, NamedSse(AnthropicThinkingStream), Metered));

        var blocks = answer.GetProperty("content").EnumerateArray().ToList();
        Assert.Equal("thinking", blocks[0].Str("type"));
        Assert.Equal("I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21", blocks[0].Str("thinking"));
        Assert.Equal("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...", blocks[0].Str("signature"));
        Assert.Equal("The greatest common divisor of 1071 and 462 is **21**.", blocks[1].Str("text"));
        var usage = answer.GetProperty("usage");
        Assert.Equal(86, usage.Num("input_tokens")); // Anthropic's input excludes cache reads and writes
        Assert.Equal(1920, usage.Num("cache_read_input_tokens"));
        Assert.Equal(0, usage.Num("cache_creation_input_tokens"));
        Assert.Equal(300, usage.Num("output_tokens"));
    }

    [Fact]
    public void A_stored_anthropic_message_streams_as_anthropic_does()
    {
        var sse = Write(WireApi.Messages, Encoding.UTF8.GetBytes(AnthropicParallelMessage), includeUsage: false);
        var events = TranslationKit.AnthropicEvents(sse);

        Assert.Equal("message_start", events[0].Name);
        var start = events[0].Data.GetProperty("message");
        Assert.Equal("msg_01Aq9w938a90dw8q", start.Str("id"));
        Assert.Empty(start.GetProperty("content").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, start.GetProperty("stop_reason").ValueKind);
        Assert.Equal(21, start.GetProperty("usage").Num("input_tokens"));
        Assert.Equal(188086, start.GetProperty("usage").Num("cache_creation_input_tokens"));
        Assert.Equal(1000, start.GetProperty("usage").Num("cache_read_input_tokens"));
        Assert.Equal(1, start.GetProperty("usage").Num("output_tokens"));
        Assert.Equal(["message_delta", "message_stop"], events[^2..].Select(e => e.Name));
        Assert.Equal("tool_use", events[^2].Data.GetProperty("delta").Str("stop_reason"));
        Assert.Equal(393, events[^2].Data.GetProperty("usage").Num("output_tokens"));

        var starts = events.Where(e => e.Name == "content_block_start").Select(e => e.Data).ToList();
        Assert.Equal([0, 1, 2, 3, 4], starts.Select(s => s.Num("index")));
        Assert.Equal(["thinking", "redacted_thinking", "text", "tool_use", "tool_use"], starts.Select(s => s.GetProperty("content_block").Str("type")));
        Assert.Equal(string.Empty, starts[0].GetProperty("content_block").Str("thinking"));
        Assert.Equal("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj", starts[1].GetProperty("content_block").Str("data"));
        Assert.Equal(string.Empty, starts[2].GetProperty("content_block").Str("text"));
        Assert.Empty(starts[3].GetProperty("content_block").GetProperty("input").EnumerateObject());
        Assert.Equal(5, events.Count(e => e.Name == "content_block_stop"));

        var deltas = events.Where(e => e.Name == "content_block_delta").Select(e => e.Data).ToList();
        string Joined(int index, string type, string member) =>
            string.Concat(deltas.Where(d => d.Num("index") == index && d.GetProperty("delta").Str("type") == type).Select(d => d.GetProperty("delta").Str(member)));
        Assert.Equal("The user wants the weather in two cities.", Joined(0, "thinking_delta", "thinking"));
        Assert.Equal("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds", Joined(0, "signature_delta", "signature"));
        Assert.DoesNotContain(deltas, d => d.Num("index") == 1);
        Assert.True(deltas.Count(d => d.Num("index") == 2) >= 2, "the text comes in several deltas");
        Assert.Equal("I'll check the current weather in both cities for you.", Joined(2, "text_delta", "text"));
        Assert.True(deltas.Count(d => d.Num("index") == 4) >= 2, "the input comes in several deltas");
        Assert.Equal("""{"location":"New York, NY","unit":"celsius"}""", Joined(4, "input_json_delta", "partial_json"));
    }

    [Fact]
    public void Anthropic_streams_with_an_error_or_input_that_is_not_json_are_not_stored()
    {
        var error = DocExamples.AnthropicTextStream.Take(4).Append(DocExamples.AnthropicStreamError).Append("""{"type": "message_stop"}""").ToArray();
        var broken = DocExamples.AnthropicToolUseStream.Where(d => !d.Contains("renheit", StringComparison.Ordinal)).ToArray();
        var unknownDelta = DocExamples.AnthropicTextStream.Select(d => d.Replace("\"text_delta\", \"text\": \"Hello\"", "\"future_delta\", \"text\": \"Hello\"", StringComparison.Ordinal)).ToArray();

        Assert.Null(AnswerForms.FromStream(WireApi.Messages, NamedSse(error)));
        Assert.Null(AnswerForms.FromStream(WireApi.Messages, NamedSse(broken)));
        Assert.Null(AnswerForms.FromStream(WireApi.Messages, NamedSse(unknownDelta)));
    }

    // Anthropic tool use and extended thinking guides: thinking, redacted thinking, text and two parallel tool calls.
    private const string AnthropicParallelMessage = """
        {
          "id": "msg_01Aq9w938a90dw8q",
          "type": "message",
          "role": "assistant",
          "model": "claude-opus-4-1-20250805",
          "content": [
            {"type": "thinking", "thinking": "The user wants the weather in two cities.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj"},
            {"type": "text", "text": "I'll check the current weather in both cities for you."},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA"}},
            {"type": "tool_use", "id": "toolu_02B19r91rx91mr928946mr0", "name": "get_weather", "input": {"location": "New York, NY", "unit": "celsius"}}
          ],
          "stop_reason": "tool_use",
          "stop_sequence": null,
          "usage": {"input_tokens": 21, "cache_creation_input_tokens": 188086, "cache_read_input_tokens": 1000, "output_tokens": 393}
        }
        """;

    // ---- OpenAI Responses ----

    // OpenAI streaming responses guide: a text answer, every event as the guide lists it.
    private static readonly string[] ResponsesTextStream =
    [
        """{"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}""",
        """{"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}""",
        """{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"in_progress","role":"assistant","content":[]}}""",
        """{"type":"response.content_part.added","sequence_number":3,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}""",
        """{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":"Hi"}""",
        """{"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":" there! How can I assist you today?"}""",
        """{"type":"response.output_text.done","sequence_number":6,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"text":"Hi there! How can I assist you today?"}""",
        """{"type":"response.content_part.done","sequence_number":7,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}}""",
        """{"type":"response.output_item.done","sequence_number":8,"output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}}""",
        """{"type":"response.completed","sequence_number":9,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":0},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48},"user":null,"metadata":{}}}""",
    ];

    // OpenAI function calling guide, "Streaming" (its events, with the response around them and a reasoning item first).
    private static readonly string[] ResponsesFunctionCallStream =
    [
        """{"type":"response.created","sequence_number":0,"response":{"id":"resp_1234xyz","object":"response","created_at":1741294021,"status":"in_progress","model":"o4-mini-2025-04-16","output":[],"usage":null}}""",
        """{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"rs_6820f383d7c08191846711c5df8233bc","type":"reasoning","summary":[]}}""",
        """{"type":"response.output_item.done","sequence_number":2,"output_index":0,"item":{"id":"rs_6820f383d7c08191846711c5df8233bc","type":"reasoning","summary":[]}}""",
        """{"type":"response.output_item.added","sequence_number":3,"output_index":1,"item":{"type":"function_call","id":"fc_1234xyz","call_id":"call_1234xyz","name":"get_weather","arguments":"","status":"in_progress"}}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":4,"item_id":"fc_1234xyz","output_index":1,"delta":"{\""}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":5,"item_id":"fc_1234xyz","output_index":1,"delta":"location"}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":6,"item_id":"fc_1234xyz","output_index":1,"delta":"\":\""}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":7,"item_id":"fc_1234xyz","output_index":1,"delta":"Paris"}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":8,"item_id":"fc_1234xyz","output_index":1,"delta":","}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":9,"item_id":"fc_1234xyz","output_index":1,"delta":" France"}""",
        """{"type":"response.function_call_arguments.delta","sequence_number":10,"item_id":"fc_1234xyz","output_index":1,"delta":"\"}"}""",
        """{"type":"response.function_call_arguments.done","sequence_number":11,"item_id":"fc_1234xyz","output_index":1,"arguments":"{\"location\":\"Paris, France\"}"}""",
        """{"type":"response.output_item.done","sequence_number":12,"output_index":1,"item":{"type":"function_call","id":"fc_1234xyz","call_id":"call_1234xyz","name":"get_weather","arguments":"{\"location\":\"Paris, France\"}","status":"completed"}}""",
        """{"type":"response.completed","sequence_number":13,"response":{"id":"resp_1234xyz","object":"response","created_at":1741294021,"status":"completed","model":"o4-mini-2025-04-16","output":[{"id":"rs_6820f383d7c08191846711c5df8233bc","type":"reasoning","summary":[]},{"type":"function_call","id":"fc_1234xyz","call_id":"call_1234xyz","name":"get_weather","arguments":"{\"location\":\"Paris, France\"}","status":"completed"}],"usage":{"input_tokens":291,"input_tokens_details":{"cached_tokens":0},"output_tokens":23,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":314}}}""",
    ];

    [Fact]
    public void Documented_responses_text_stream_becomes_the_completed_response()
    {
        var bytes = AnswerForms.FromStream(WireApi.Responses, NamedSse(ResponsesTextStream));
        var answer = Json(bytes);

        Assert.True(TranslationKit.JsonEquals(Completed(ResponsesTextStream), Encoding.UTF8.GetString(bytes!)));
        Assert.Equal("resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654", answer.Str("id"));
        Assert.Equal("response", answer.Str("object"));
        Assert.Equal("completed", answer.Str("status"));
        var message = Assert.Single(answer.GetProperty("output").EnumerateArray());
        Assert.Equal("message", message.Str("type"));
        Assert.Equal("Hi there! How can I assist you today?", Assert.Single(message.GetProperty("content").EnumerateArray()).Str("text"));
        Assert.Equal(48, answer.GetProperty("usage").Num("total_tokens"));
    }

    [Fact]
    public void Documented_responses_function_call_stream_becomes_the_completed_response()
    {
        var answer = Json(AnswerForms.FromStream(WireApi.Responses, NamedSse(ResponsesFunctionCallStream)));

        var output = answer.GetProperty("output").EnumerateArray().ToList();
        Assert.Equal(["reasoning", "function_call"], output.Select(o => o.Str("type")));
        Assert.Equal("call_1234xyz", output[1].Str("call_id"));
        Assert.Equal("get_weather", output[1].Str("name"));
        Assert.Equal("""{"location":"Paris, France"}""", output[1].Str("arguments"));
        Assert.Equal(314, answer.GetProperty("usage").Num("total_tokens"));
    }

    [Fact]
    public void A_stored_response_streams_as_the_responses_api_does()
    {
        var stored = Encoding.UTF8.GetBytes(Completed(ResponsesFunctionCallStream).Replace("\"output\":[", "\"output\":[" + ResponsesMessageItem + ",", StringComparison.Ordinal));
        var events = ResponsesEvents(Write(WireApi.Responses, stored, includeUsage: false));

        Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.Data.Num("sequence_number")));
        Assert.Equal(["response.created", "response.in_progress"], events.Take(2).Select(e => e.Name));
        Assert.All(events.Take(2), e => Assert.Equal("in_progress", e.Data.GetProperty("response").Str("status")));
        Assert.All(events.Take(2), e => Assert.Empty(e.Data.GetProperty("response").GetProperty("output").EnumerateArray()));
        Assert.Equal("response.completed", events[^1].Name);
        Assert.True(TranslationKit.JsonEquals(Encoding.UTF8.GetString(stored), events[^1].Data.GetProperty("response").GetRawText()));

        var names = events.Select(e => e.Name).ToList();
        Assert.Equal(3, names.Count(n => n == "response.output_item.added"));
        Assert.Equal(3, names.Count(n => n == "response.output_item.done"));
        var added = events.Where(e => e.Name == "response.output_item.added").Select(e => e.Data).ToList();
        Assert.Equal([0, 1, 2], added.Select(a => a.Num("output_index")));
        Assert.Empty(added[0].GetProperty("item").GetProperty("content").EnumerateArray());
        Assert.Equal("in_progress", added[0].GetProperty("item").Str("status"));
        Assert.Equal(string.Empty, added[2].GetProperty("item").Str("arguments"));

        var part = events.Single(e => e.Name == "response.content_part.added").Data;
        Assert.Equal("msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654", part.Str("item_id"));
        Assert.Equal(0, part.Num("content_index"));
        Assert.Equal(string.Empty, part.GetProperty("part").Str("text"));
        var text = events.Where(e => e.Name == "response.output_text.delta").Select(e => e.Data).ToList();
        Assert.True(text.Count >= 2, "the text comes in several deltas");
        Assert.All(text, d => Assert.Equal("msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654", d.Str("item_id")));
        Assert.Equal("Bonjour ! Il fait beau à Paris aujourd'hui.", string.Concat(text.Select(d => d.Str("delta"))));
        Assert.Equal("Bonjour ! Il fait beau à Paris aujourd'hui.", events.Single(e => e.Name == "response.output_text.done").Data.Str("text"));
        Assert.Equal(1, names.Count(n => n == "response.content_part.done"));

        var arguments = events.Where(e => e.Name == "response.function_call_arguments.delta").Select(e => e.Data).ToList();
        Assert.All(arguments, d => Assert.Equal("fc_1234xyz", d.Str("item_id")));
        Assert.All(arguments, d => Assert.Equal(2, d.Num("output_index")));
        Assert.Equal("""{"location":"Paris, France"}""", string.Concat(arguments.Select(d => d.Str("delta"))));
        Assert.Equal("""{"location":"Paris, France"}""", events.Single(e => e.Name == "response.function_call_arguments.done").Data.Str("arguments"));
        var order = new[] { "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done" };
        Assert.Equal(order, names.Skip(2).Where(order.Contains).Distinct());
    }

    [Fact]
    public void Responses_streams_that_fail_are_incomplete_or_carry_an_error_are_not_stored()
    {
        var failed = ResponsesTextStream[..^1].Append("""{"type":"response.failed","sequence_number":9,"response":{"id":"resp_1","object":"response","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"output":[]}}""").ToArray();
        var incomplete = ResponsesTextStream[..^1].Append("""{"type":"response.incomplete","sequence_number":9,"response":{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[]}}""").ToArray();
        var error = ResponsesTextStream[..5].Append("""{"type":"error","sequence_number":5,"code":"ERR_SOMETHING","message":"Something went wrong","param":null}""").Append(ResponsesTextStream[^1]).ToArray();

        Assert.Null(AnswerForms.FromStream(WireApi.Responses, NamedSse(failed)));
        Assert.Null(AnswerForms.FromStream(WireApi.Responses, NamedSse(incomplete)));
        Assert.Null(AnswerForms.FromStream(WireApi.Responses, NamedSse(error)));
    }

    private const string ResponsesMessageItem = """{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Bonjour ! Il fait beau à Paris aujourd'hui.","annotations":[]}]}""";

    // ---- All three ----

    public static TheoryData<string> Streams => ["chat text", "chat tool", "chat parallel", "messages text", "messages tool", "messages thinking", "responses text", "responses function"];

    [Theory]
    [MemberData(nameof(Streams))]
    public void A_stored_answer_written_as_a_stream_reads_back_as_the_same_answer(string name)
    {
        var (api, sse) = Example(name);
        var stored = AnswerForms.FromStream(api, sse, Metered);
        Assert.NotNull(stored);

        var again = AnswerForms.FromStream(api, Encoding.UTF8.GetBytes(Write(api, stored, includeUsage: true)));

        Assert.Equal(Encoding.UTF8.GetString(stored), Encoding.UTF8.GetString(again!));
    }

    [Fact]
    public void A_provider_json_answer_written_as_a_stream_reads_back_as_the_same_answer()
    {
        (WireApi Api, string Json)[] answers =
        [
            (WireApi.ChatCompletions, DocExamples.ChatCompletion),
            (WireApi.Messages, DocExamples.AnthropicMessage),
            (WireApi.Messages, DocExamples.AnthropicToolUseMessage.Replace("\"role\": \"assistant\",", "\"role\": \"assistant\", \"stop_sequence\": null,", StringComparison.Ordinal)), // message_delta always has it
            (WireApi.Messages, AnthropicParallelMessage),
            (WireApi.Responses, Completed(ResponsesTextStream)),
        ];
        foreach (var (api, json) in answers)
        {
            var again = AnswerForms.FromStream(api, Encoding.UTF8.GetBytes(Write(api, Encoding.UTF8.GetBytes(json), includeUsage: true)));
            Assert.NotNull(again);
            Assert.True(TranslationKit.JsonEquals(json, Encoding.UTF8.GetString(again)), $"{api}: {Encoding.UTF8.GetString(again)}");
        }

        // An answer without refusal and annotations gains them (null, []), as OpenAI's current answers have; the rest stays.
        var original = TranslationKit.Parse(Encoding.UTF8.GetBytes(DocExamples.ChatToolCallsCompletion));
        var read = Json(AnswerForms.FromStream(WireApi.ChatCompletions, Encoding.UTF8.GetBytes(Write(WireApi.ChatCompletions, Encoding.UTF8.GetBytes(DocExamples.ChatToolCallsCompletion), includeUsage: true))));
        var message = read.GetProperty("choices")[0].GetProperty("message");
        Assert.True(JsonElement.DeepEquals(original.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls"), message.GetProperty("tool_calls")));
        Assert.True(JsonElement.DeepEquals(original.GetProperty("usage"), read.GetProperty("usage")));
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        Assert.Equal("tool_calls", read.GetProperty("choices")[0].Str("finish_reason"));
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void A_stream_cut_before_its_terminal_event_is_not_stored(string name)
    {
        var (api, sse) = Example(name);
        var terminal = api switch
        {
            WireApi.ChatCompletions => "data: [DONE]",
            WireApi.Messages => "event: message_stop",
            _ => "event: response.completed",
        };
        var end = sse.AsSpan().IndexOf(Encoding.UTF8.GetBytes(terminal));
        Assert.True(end > 0);

        for (var cut = 0; cut < end; cut += Math.Max(1, end / 40))
        {
            Assert.Null(AnswerForms.FromStream(api, sse.AsSpan(0, cut), Metered));
        }

        Assert.Null(AnswerForms.FromStream(api, sse.AsSpan(0, end), Metered));
        Assert.Null(AnswerForms.FromStream(api, sse.AsSpan(0, end + terminal.Length - 2), Metered)); // the terminal event itself cut
        Assert.Null(AnswerForms.FromStream(api, sse.AsSpan(0, sse.Length - 10), Metered));
        Assert.NotNull(AnswerForms.FromStream(api, sse, Metered));
    }

    [Theory]
    [InlineData("chat")]
    [InlineData("messages")]
    [InlineData("responses")]
    public void A_two_word_answer_streams_in_several_deltas_and_multibyte_text_survives(string name)
    {
        var api = name switch { "chat" => WireApi.ChatCompletions, "messages" => WireApi.Messages, _ => WireApi.Responses };
        foreach (var text in new[] { "Hello world", "你好，世界！今天天气很好。 我们去公园散步吧，好吗？ 🌞🌳🚶‍♀️ 好的 👍🏽 再见 👋", string.Concat(Enumerable.Repeat("😀", 50)) })
        {
            var stored = Answer(api, text);
            var sse = Write(api, stored, includeUsage: true);
            if (!char.IsSurrogate(text[0]))
            {
                Assert.Contains(text[..2], sse, StringComparison.Ordinal); // written as is, not \u-escaped (emoji are: the encoder escapes every pair)
            }

            var deltas = TextDeltas(api, sse);
            Assert.True(deltas.Count >= 2, $"{api}: {deltas.Count} deltas for \"{text}\"");
            Assert.Equal(text, string.Concat(deltas));
            Assert.All(deltas, d => Assert.False(char.IsHighSurrogate(d[^1]) || char.IsLowSurrogate(d[0]), "a piece splits a surrogate pair"));

            var again = AnswerForms.FromStream(api, Encoding.UTF8.GetBytes(sse));
            Assert.Equal(Encoding.UTF8.GetString(stored), Encoding.UTF8.GetString(again!));
        }
    }

    [Fact]
    public void Text_pieces_are_cut_at_word_boundaries_in_pieces_of_about_twenty_to_forty_characters()
    {
        Assert.Empty(AnswerForms.Pieces(string.Empty));
        Assert.Equal(["Hello"], AnswerForms.Pieces("Hello"));
        Assert.Equal(["Hello ", "world"], AnswerForms.Pieces("Hello world"));
        Assert.Equal(["The quick ", "brown fox"], AnswerForms.Pieces("The quick brown fox"));

        var text = string.Join(' ', Enumerable.Range(0, 60).Select(i => i % 3 == 0 ? "alpha" : i % 3 == 1 ? "be" : "gamma-delta"));
        var pieces = AnswerForms.Pieces(text);
        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces[..^1], p => Assert.InRange(p.Length, 20, 40));
        Assert.All(pieces[..^1], p => Assert.EndsWith(" ", p, StringComparison.Ordinal));

        var emoji = "a" + string.Concat(Enumerable.Repeat("😀", 40)); // the 32nd character would split a pair
        var cut = AnswerForms.Pieces(emoji);
        Assert.True(cut.Count >= 2);
        Assert.Equal(emoji, string.Concat(cut));
        Assert.All(cut, p => Assert.False(char.IsLowSurrogate(p[0]) || char.IsHighSurrogate(p[^1])));
    }

    [Fact]
    public void Embeddings_have_no_stream_form()
    {
        Assert.Throws<ArgumentException>(() => AnswerForms.FromStream(WireApi.Embeddings, "data: {}\n\n"u8));
        Assert.Throws<ArgumentException>(() => AnswerForms.WriteStream(WireApi.Embeddings, """{"object":"list","data":[]}"""u8, false, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentException>(() => AnswerForms.WriteStream(WireApi.ChatCompletions, "not json"u8, false, new ArrayBufferWriter<byte>()));
    }

    // ---- helpers ----

    private static (WireApi Api, byte[] Sse) Example(string name) => name switch
    {
        "chat text" => (WireApi.ChatCompletions, ChatSse(DocExamples.ChatTextStream)),
        "chat tool" => (WireApi.ChatCompletions, ChatSse(DocExamples.ChatToolCallStream)),
        "chat parallel" => (WireApi.ChatCompletions, ChatSse(ChatParallelToolStream)),
        "messages text" => (WireApi.Messages, NamedSse(DocExamples.AnthropicTextStream)),
        "messages tool" => (WireApi.Messages, NamedSse(DocExamples.AnthropicToolUseStream)),
        "messages thinking" => (WireApi.Messages, NamedSse(AnthropicThinkingStream)),
        "responses text" => (WireApi.Responses, NamedSse(ResponsesTextStream)),
        _ => (WireApi.Responses, NamedSse(ResponsesFunctionCallStream)),
    };

    /// <summary>A one-text answer of the API, as its provider's JSON body.</summary>
    private static byte[] Answer(WireApi api, string text)
    {
        var quoted = JsonSerializer.Serialize(text);
        var json = api switch
        {
            WireApi.ChatCompletions => $$$"""{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":{{{quoted}}},"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":9,"total_tokens":14}}""",
            WireApi.Messages => $$$"""{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":{{{quoted}}}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":9}}""",
            _ => $$$"""{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"gpt-4.1","output":[{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":{{{quoted}}},"annotations":[]}]}],"usage":{"input_tokens":5,"output_tokens":9,"total_tokens":14}}""",
        };

        // Through FromStream once, so the answer has the exact form (and escaping) the cache stores.
        var stream = Write(api, Encoding.UTF8.GetBytes(json), includeUsage: true);
        return AnswerForms.FromStream(api, Encoding.UTF8.GetBytes(stream))!;
    }

    private static List<string> TextDeltas(WireApi api, string sse) => api switch
    {
        WireApi.ChatCompletions => [.. TranslationKit.ChatChunks(sse).Select(c => c.GetProperty("choices")).Where(c => c.GetArrayLength() > 0)
            .Select(c => c[0].GetProperty("delta")).Where(d => d.Has("content") && d.GetProperty("content").ValueKind == JsonValueKind.String)
            .Select(d => d.Str("content")).Where(s => s.Length > 0)],
        WireApi.Messages => [.. TranslationKit.AnthropicEvents(sse).Where(e => e.Name == "content_block_delta").Select(e => e.Data.GetProperty("delta").Str("text"))],
        _ => [.. ResponsesEvents(sse).Where(e => e.Name == "response.output_text.delta").Select(e => e.Data.Str("delta"))],
    };

    private static List<(string Name, JsonElement Data)> ResponsesEvents(string sse) => TranslationKit.AnthropicEvents(sse); // same framing: event line, data line

    private static string Write(WireApi api, byte[] json, bool includeUsage)
    {
        var output = new ArrayBufferWriter<byte>();
        AnswerForms.WriteStream(api, json, includeUsage, output);
        var sse = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.EndsWith("\n\n", sse, StringComparison.Ordinal);
        return sse;
    }

    private static string Completed(string[] stream) =>
        TranslationKit.Parse(Encoding.UTF8.GetBytes(stream[^1])).GetProperty("response").GetRawText();

    private static byte[] ChatSse(IEnumerable<string> data) =>
        Encoding.UTF8.GetBytes(string.Concat(data.Select(d => $"data: {d}\n\n")));

    /// <summary>Anthropic and Responses framing: <c>event: &lt;type&gt;</c> then the data line.</summary>
    private static byte[] NamedSse(IEnumerable<string> data) =>
        Encoding.UTF8.GetBytes(string.Concat(data.Select(d => $"event: {TranslationKit.Parse(Encoding.UTF8.GetBytes(d)).Str("type")}\ndata: {d}\n\n")));

    private static JsonElement Json(byte[]? bytes)
    {
        Assert.NotNull(bytes);
        return TranslationKit.Parse(bytes);
    }
}

using System.Text;
using System.Text.Json;
using Translator = Tollgate.Gateway.Protocols.Translation.Translation;

namespace Tollgate.Tests.Protocols.Translation;

/// <summary>Out through one direction and back through the other: what both APIs can say survives.</summary>
public class RoundTripTests
{
    [Fact]
    public void A_chat_conversation_survives_a_trip_through_the_messages_api()
    {
        var original = TranslationKit.Parse(Encoding.UTF8.GetBytes(DocExamples.ChatParallelToolConversation));
        var anthropic = TranslationKit.Request(Translator.ChatToMessages, DocExamples.ChatParallelToolConversation);
        var back = TranslationKit.Request(Translator.MessagesToChat, anthropic.GetRawText());

        var before = original.GetProperty("messages").EnumerateArray().ToList();
        var after = back.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["system", "user", "assistant", "tool", "tool", "user"], after.Select(m => m.Str("role")));
        Assert.Equal(before[0].Str("content"), after[0].Str("content"));
        Assert.Equal(before[1].Str("content"), after[1].Str("content"));
        var callsBefore = before[2].GetProperty("tool_calls").EnumerateArray().ToList();
        var callsAfter = after[2].GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal(callsBefore.Select(c => c.Str("id")), callsAfter.Select(c => c.Str("id")));
        Assert.Equal(callsBefore.Select(c => c.GetProperty("function").Str("name")), callsAfter.Select(c => c.GetProperty("function").Str("name")));
        Assert.All(callsBefore.Zip(callsAfter), p => Assert.True(TranslationKit.JsonEquals(p.First.GetProperty("function").Str("arguments"), p.Second.GetProperty("function").Str("arguments"))));
        Assert.Equal([before[3].Str("tool_call_id"), before[4].Str("tool_call_id")], [after[3].Str("tool_call_id"), after[4].Str("tool_call_id")]);
        Assert.Equal([before[3].Str("content"), before[4].Str("content"), before[5].Str("content")], [after[3].Str("content"), after[4].Str("content"), after[5].Str("content")]);
        Assert.True(JsonElement.DeepEquals(
            original.GetProperty("tools")[0].GetProperty("function").GetProperty("parameters"),
            back.GetProperty("tools")[0].GetProperty("function").GetProperty("parameters")));
    }

    [Fact]
    public void An_anthropic_answer_survives_a_trip_through_the_chat_api_but_for_thinking_and_the_cache_write_split()
    {
        var chat = TranslationKit.Response(Translator.ChatToMessages, DocExamples.AnthropicToolUseMessage);
        var back = TranslationKit.Response(Translator.MessagesToChat, chat.GetRawText());

        var original = TranslationKit.Parse(Encoding.UTF8.GetBytes(DocExamples.AnthropicToolUseMessage));
        Assert.Equal(original.Str("id"), back.Str("id"));
        Assert.Equal(original.Str("model"), back.Str("model"));
        Assert.Equal("tool_use", back.Str("stop_reason"));
        var blocks = back.GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(["text", "tool_use"], blocks.Select(b => b.Str("type")));
        Assert.True(JsonElement.DeepEquals(original.GetProperty("content")[2].GetProperty("input"), blocks[1].GetProperty("input")));
        var usage = back.GetProperty("usage");
        Assert.Equal(1000, usage.Num("cache_read_input_tokens"));
        Assert.Equal(21 + 188086, usage.Num("input_tokens")); // Chat has no cache-write count: it folds into input
        Assert.Equal(393, usage.Num("output_tokens"));
    }

    [Fact]
    public void A_streamed_anthropic_tool_turn_survives_a_trip_through_chat_chunks()
    {
        var (chatSse, _) = TranslationKit.Stream(Translator.ChatToMessages, DocExamples.AnthropicToolUseStream, includeUsage: true);
        var (anthropicSse, stream) = TranslationKit.Stream(Translator.MessagesToChat, TranslationKit.ChatData(chatSse));

        Assert.True(stream.Finished);
        var events = TranslationKit.AnthropicEvents(anthropicSse);
        var text = string.Concat(events.Where(e => e.Name == "content_block_delta" && e.Data.GetProperty("delta").Str("type") == "text_delta").Select(e => e.Data.GetProperty("delta").Str("text")));
        Assert.Equal("Okay, let's check the weather for San Francisco, CA:", text);
        var json = string.Concat(events.Where(e => e.Name == "content_block_delta" && e.Data.GetProperty("delta").Str("type") == "input_json_delta").Select(e => e.Data.GetProperty("delta").Str("partial_json")));
        Assert.True(TranslationKit.JsonEquals("""{"location": "San Francisco, CA", "unit": "fahrenheit"}""", json));
        var tool = events.Single(e => e.Name == "content_block_start" && e.Data.GetProperty("content_block").Str("type") == "tool_use").Data;
        Assert.Equal(1, tool.Num("index"));
        Assert.Equal("toolu_01T1x1fJ34qAmk2tNTrN7Up6", tool.GetProperty("content_block").Str("id"));
        var delta = events.Single(e => e.Name == "message_delta").Data;
        Assert.Equal("tool_use", delta.GetProperty("delta").Str("stop_reason"));
        Assert.Equal(472, delta.GetProperty("usage").Num("input_tokens"));
        Assert.Equal(89, delta.GetProperty("usage").Num("output_tokens"));
    }
}

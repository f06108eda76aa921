using System.Text.Json;
using Translator = Tollgate.Gateway.Protocols.Translation.Translation;

namespace Tollgate.Tests.Protocols.Translation;

/// <summary>Whole (non-streamed) answers and error bodies, both ways.</summary>
public class ResponseTranslationTests
{
    [Fact]
    public void Documented_anthropic_message_becomes_a_chat_completion()
    {
        var body = TranslationKit.Response(Translator.ChatToMessages, DocExamples.AnthropicMessage);

        Assert.Equal("msg_013Zva2CMHLNnXjNJJKqJ2EF", body.Str("id"));
        Assert.Equal("chat.completion", body.Str("object"));
        Assert.True(body.Num("created") > 1_700_000_000);
        Assert.Equal("claude-sonnet-4-20250514", body.Str("model")); // the model that served, not the alias
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.Num("index"));
        Assert.Equal("assistant", choice.GetProperty("message").Str("role"));
        Assert.Equal("Hi! My name is Claude.", choice.GetProperty("message").Str("content"));
        Assert.False(choice.GetProperty("message").Has("tool_calls"));
        Assert.Equal("stop", choice.Str("finish_reason"));
        var usage = body.GetProperty("usage");
        Assert.Equal(2095, usage.Num("prompt_tokens"));
        Assert.Equal(503, usage.Num("completion_tokens"));
        Assert.Equal(2598, usage.Num("total_tokens"));
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").Num("cached_tokens"));
    }

    [Fact]
    public void Anthropic_tool_use_becomes_tool_calls_with_cache_usage_counted_in_prompt_tokens()
    {
        var body = TranslationKit.Response(Translator.ChatToMessages, DocExamples.AnthropicToolUseMessage);

        var choice = body.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.Str("finish_reason"));
        var message = choice.GetProperty("message");
        Assert.Equal("I'll check the current weather in San Francisco for you.", message.Str("content")); // thinking dropped
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.Equal("toolu_01A09q90qw90lq917835lq9", call.Str("id"));
        Assert.Equal("function", call.Str("type"));
        Assert.Equal("get_weather", call.GetProperty("function").Str("name"));
        Assert.True(TranslationKit.JsonEquals("""{"location":"San Francisco, CA","unit":"celsius"}""", call.GetProperty("function").Str("arguments")));

        var usage = body.GetProperty("usage");
        Assert.Equal(21 + 188086 + 1000, usage.Num("prompt_tokens"));
        Assert.Equal(1000, usage.GetProperty("prompt_tokens_details").Num("cached_tokens"));
        Assert.Equal(393, usage.Num("completion_tokens"));
        Assert.Equal(21 + 188086 + 1000 + 393, usage.Num("total_tokens"));
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("refusal", "content_filter")]
    public void Stop_reasons_become_finish_reasons(string stopReason, string finishReason)
    {
        var body = TranslationKit.Response(Translator.ChatToMessages, DocExamples.AnthropicMessage.Replace("\"end_turn\"", "\"" + stopReason + "\"", StringComparison.Ordinal));

        Assert.Equal(finishReason, body.GetProperty("choices")[0].Str("finish_reason"));
    }

    [Fact]
    public void Documented_chat_completion_becomes_an_anthropic_message()
    {
        var body = TranslationKit.Response(Translator.MessagesToChat, DocExamples.ChatCompletion);

        Assert.Equal("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", body.Str("id"));
        Assert.Equal("message", body.Str("type"));
        Assert.Equal("assistant", body.Str("role"));
        Assert.Equal("gpt-4.1-2025-04-14", body.Str("model"));
        var text = Assert.Single(body.GetProperty("content").EnumerateArray());
        Assert.Equal("text", text.Str("type"));
        Assert.Equal("Hello! How can I assist you today?", text.Str("text"));
        Assert.Equal("end_turn", body.Str("stop_reason"));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("stop_sequence").ValueKind);
        var usage = body.GetProperty("usage");
        Assert.Equal(19, usage.Num("input_tokens"));
        Assert.Equal(10, usage.Num("output_tokens"));
        Assert.Equal(0, usage.Num("cache_read_input_tokens"));
        Assert.Equal(0, usage.Num("cache_creation_input_tokens"));
    }

    [Fact]
    public void Chat_tool_calls_become_tool_use_blocks_and_cached_tokens_leave_input_tokens()
    {
        var body = TranslationKit.Response(Translator.MessagesToChat, DocExamples.ChatToolCallsCompletion);

        Assert.Equal("tool_use", body.Str("stop_reason"));
        var block = Assert.Single(body.GetProperty("content").EnumerateArray());
        Assert.Equal("tool_use", block.Str("type"));
        Assert.Equal("call_abc123", block.Str("id"));
        Assert.Equal("get_current_weather", block.Str("name"));
        Assert.Equal("Boston, MA", block.GetProperty("input").Str("location"));
        var usage = body.GetProperty("usage");
        Assert.Equal(2006 - 1920, usage.Num("input_tokens"));
        Assert.Equal(1920, usage.Num("cache_read_input_tokens"));
        Assert.Equal(300, usage.Num("output_tokens"));
    }

    [Theory]
    [InlineData("stop", "end_turn")]
    [InlineData("length", "max_tokens")]
    [InlineData("tool_calls", "tool_use")]
    [InlineData("content_filter", "refusal")]
    public void Finish_reasons_become_stop_reasons(string finishReason, string stopReason)
    {
        var body = TranslationKit.Response(Translator.MessagesToChat, DocExamples.ChatCompletion.Replace("\"stop\"", "\"" + finishReason + "\"", StringComparison.Ordinal));

        Assert.Equal(stopReason, body.Str("stop_reason"));
    }

    [Fact]
    public void A_chat_refusal_becomes_text_with_the_refusal_stop_reason()
    {
        var body = TranslationKit.Response(Translator.MessagesToChat, """
            {"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}
            """);

        Assert.Equal("I can't help with that.", body.GetProperty("content")[0].Str("text"));
        Assert.Equal("refusal", body.Str("stop_reason"));
    }

    [Theory]
    [InlineData(404, DocExamples.AnthropicNotFound, "not_found_error", "model_not_found", "The requested resource could not be found.")]
    [InlineData(429, """{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}""", "rate_limit_error", "rate_limit_exceeded", "Number of request tokens has exceeded your per-minute rate limit")]
    [InlineData(401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""", "authentication_error", "invalid_api_key", "invalid x-api-key")]
    [InlineData(400, """{"type":"error","error":{"type":"invalid_request_error","message":"messages: roles must alternate"}}""", "invalid_request_error", null, "messages: roles must alternate")]
    [InlineData(529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", "server_error", "overloaded", "Overloaded")]
    public void Anthropic_errors_become_openai_errors_keeping_the_message(int status, string providerBody, string type, string? code, string message)
    {
        var error = TranslationKit.Error(Translator.ChatToMessages, status, providerBody).GetProperty("error");

        Assert.Equal(message, error.Str("message"));
        Assert.Equal(type, error.Str("type"));
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
    }

    [Theory]
    [InlineData(401, DocExamples.OpenAiInvalidKey, "authentication_error")]
    [InlineData(429, DocExamples.OpenAiRateLimit, "rate_limit_error")]
    [InlineData(404, """{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}""", "not_found_error")]
    [InlineData(400, """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""", "invalid_request_error")]
    [InlineData(503, """{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}""", "overloaded_error")]
    [InlineData(500, """{"error":"Internal error from the model server"}""", "api_error")]
    public void OpenAI_errors_become_anthropic_errors_keeping_the_message(int status, string providerBody, string type)
    {
        var body = TranslationKit.Error(Translator.MessagesToChat, status, providerBody);

        Assert.Equal("error", body.Str("type"));
        Assert.Equal(type, body.GetProperty("error").Str("type"));
        var expected = TranslationKit.Parse(System.Text.Encoding.UTF8.GetBytes(providerBody)).GetProperty("error");
        Assert.Equal(expected.ValueKind == JsonValueKind.String ? expected.GetString() : expected.Str("message"), body.GetProperty("error").Str("message"));
    }

    [Fact]
    public void Unparseable_error_bodies_become_a_generic_error_with_the_status()
    {
        var openAi = TranslationKit.Error(Translator.ChatToMessages, 502, "<html>Bad gateway</html>").GetProperty("error");
        Assert.Contains("502", openAi.Str("message"), StringComparison.Ordinal);
        Assert.Equal("server_error", openAi.Str("type"));

        var anthropic = TranslationKit.Error(Translator.MessagesToChat, 429, "");
        Assert.Equal("rate_limit_error", anthropic.GetProperty("error").Str("type"));
        Assert.Contains("429", anthropic.GetProperty("error").Str("message"), StringComparison.Ordinal);
    }
}

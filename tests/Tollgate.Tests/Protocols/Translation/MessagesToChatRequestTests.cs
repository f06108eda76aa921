using System.Text.Json;
using Tollgate.Gateway.Providers;
using Translator = Tollgate.Gateway.Protocols.Translation.Translation;

namespace Tollgate.Tests.Protocols.Translation;

/// <summary>An Anthropic Messages request sent to a Chat Completions model.</summary>
public class MessagesToChatRequestTests
{
    private static readonly Translator T = Translator.MessagesToChat;

    [Fact]
    public void Documented_tool_conversation_becomes_chat_messages_with_tool_calls_and_tool_messages()
    {
        var body = TranslationKit.Request(T, DocExamples.AnthropicToolConversation);

        Assert.Equal("upstream-model", body.Str("model"));
        Assert.Equal(1024, body.Num("max_completion_tokens"));
        Assert.False(body.Has("max_tokens"));
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["system", "user", "assistant", "tool", "tool", "user"], messages.Select(m => m.Str("role")));
        Assert.Equal("You are a weather assistant.\nAnswer briefly.", messages[0].Str("content"));
        Assert.Equal("What's the weather like in San Francisco and New York?", messages[1].Str("content"));

        var assistant = messages[2];
        Assert.Equal("I'll check both cities.", assistant.Str("content")); // the thinking block is dropped
        var calls = assistant.GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.Equal(["toolu_01A09q90qw90lq917835lq9", "toolu_02B19r91rx91mr928946mr0"], calls.Select(c => c.Str("id")));
        Assert.All(calls, c => Assert.Equal("function", c.Str("type")));
        Assert.All(calls, c => Assert.Equal("get_weather", c.GetProperty("function").Str("name")));
        Assert.True(TranslationKit.JsonEquals("""{"location":"San Francisco, CA","unit":"celsius"}""", calls[0].GetProperty("function").Str("arguments")));
        Assert.True(TranslationKit.JsonEquals("""{"location":"New York, NY"}""", calls[1].GetProperty("function").Str("arguments")));

        // Tool results come first, one tool message each, then the user text of that turn.
        Assert.Equal("toolu_01A09q90qw90lq917835lq9", messages[3].Str("tool_call_id"));
        Assert.Equal("15 degrees", messages[3].Str("content"));
        Assert.Equal("toolu_02B19r91rx91mr928946mr0", messages[4].Str("tool_call_id"));
        Assert.Equal("18 degrees", messages[4].Str("content"));
        Assert.Equal("Also, which is warmer?", messages[5].Str("content"));

        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.Equal("function", tool.Str("type"));
        Assert.Equal("get_weather", tool.GetProperty("function").Str("name"));
        Assert.Equal("Get the current weather in a given location", tool.GetProperty("function").Str("description"));
        Assert.Equal("location", tool.GetProperty("function").GetProperty("parameters").GetProperty("required")[0].GetString());
        Assert.False(tool.Has("cache_control"));
        Assert.False(tool.GetProperty("function").Has("cache_control"));

        Assert.Equal("required", body.Str("tool_choice"));
        Assert.False(body.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.Equal(["\n\nHuman:"], body.GetProperty("stop").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(0.5, body.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, body.GetProperty("top_p").GetDouble());
        Assert.Equal("13803d75-b4b5-4c3e-b2a2-6f21399b021b", body.Str("user"));
        Assert.False(body.Has("stream"));
        Assert.DoesNotContain("cache_control", body.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("thinking", body.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void OpenAI_compatible_servers_get_max_tokens()
    {
        var body = TranslationKit.Request(T, DocExamples.AnthropicVisionRequest, kind: ProviderKind.OpenAiCompatible);

        Assert.Equal(1024, body.Num("max_tokens"));
        Assert.False(body.Has("max_completion_tokens"));
    }

    [Fact]
    public void Base64_and_url_images_become_image_url_parts()
    {
        var body = TranslationKit.Request(T, DocExamples.AnthropicVisionRequest);

        var parts = Assert.Single(body.GetProperty("messages").EnumerateArray()).GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(["image_url", "image_url", "text"], parts.Select(p => p.Str("type")));
        Assert.Equal("data:image/jpeg;base64,/9j/4AAQSkZJRg", parts[0].GetProperty("image_url").Str("url"));
        Assert.Equal("https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg", parts[1].GetProperty("image_url").Str("url"));
        Assert.Equal("Describe these images.", parts[2].Str("text"));
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", "\"auto\"")]
    [InlineData("""{"type":"none"}""", "\"none\"")]
    [InlineData("""{"type":"any"}""", "\"required\"")]
    [InlineData("""{"type":"tool","name":"get_weather"}""", """{"type":"function","function":{"name":"get_weather"}}""")]
    public void Tool_choice_maps_to_its_chat_form(string choice, string expected)
    {
        var body = TranslationKit.Request(T, """
            {"model":"m","max_tokens":10,"messages":[{"role":"user","content":"Weather?"}],
             "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{}}}],"tool_choice":
            """ + choice + "}");

        Assert.True(TranslationKit.JsonEquals(expected, body.GetProperty("tool_choice").GetRawText()));
        Assert.False(body.Has("parallel_tool_calls"));
    }

    [Fact]
    public void A_stream_asks_the_provider_for_usage()
    {
        var body = TranslationKit.Request(T, """{"model":"m","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public void Untranslatable_parameters_are_refused_by_name_or_dropped()
    {
        const string Body = """
            {"model":"m","max_tokens":10,"top_k":5,"messages":[{"role":"user","content":"Hi"}],
             "tools":[{"type":"web_search_20250305","name":"web_search","max_uses":5}],"thinking":{"type":"enabled","budget_tokens":2048}}
            """;
        var error = TranslationKit.RequestError(T, Body);
        Assert.Equal("top_k", error.Param);
        Assert.Equal("'top_k', 'thinking', 'tools' cannot be sent to a Chat Completions model; remove them, or set drop_unsupported_params on the route.", error.Message);

        var dropped = TranslationKit.Request(T, Body, drop: true);
        Assert.Equal(["model", "messages", "max_completion_tokens"], dropped.EnumerateObject().Select(p => p.Name));

        var disabled = TranslationKit.Request(T, """{"model":"m","max_tokens":10,"thinking":{"type":"disabled"},"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.False(disabled.Has("thinking"));
    }

    [Fact]
    public void A_thinking_only_assistant_turn_and_tool_result_images_are_handled()
    {
        var body = TranslationKit.Request(T, """
            {"model":"m","max_tokens":10,"messages":[
              {"role":"user","content":"Screenshot?"},
              {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"screenshot","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"Here:"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo"}}]}]},
              {"role":"assistant","content":[{"type":"redacted_thinking","data":"abc"}]},
              {"role":"user","content":"Thanks"}]}
            """);

        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "tool", "user", "user"], messages.Select(m => m.Str("role")));
        Assert.Equal(JsonValueKind.Null, messages[1].GetProperty("content").ValueKind);
        Assert.Equal("{}", messages[1].GetProperty("tool_calls")[0].GetProperty("function").Str("arguments"));
        Assert.Equal("Here:", messages[2].Str("content"));
        Assert.Equal("data:image/png;base64,iVBORw0KGgo", messages[3].GetProperty("content")[0].GetProperty("image_url").Str("url"));
    }
}

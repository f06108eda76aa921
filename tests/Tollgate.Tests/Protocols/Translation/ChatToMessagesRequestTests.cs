using System.Text.Json;
using Translator = Tollgate.Gateway.Protocols.Translation.Translation;

namespace Tollgate.Tests.Protocols.Translation;

/// <summary>A Chat Completions request sent to an Anthropic model.</summary>
public class ChatToMessagesRequestTests
{
    private static readonly Translator T = Translator.ChatToMessages;

    [Fact]
    public void Documented_function_request_becomes_a_messages_request_with_input_schema_and_a_default_max_tokens()
    {
        var body = TranslationKit.Request(T, DocExamples.ChatFunctionsRequest, defaultMaxTokens: 2048);

        Assert.Equal("upstream-model", body.Str("model"));
        Assert.Equal(2048, body.Num("max_tokens"));
        Assert.False(body.Has("system"));
        var message = Assert.Single(body.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.Str("role"));
        var text = Assert.Single(message.GetProperty("content").EnumerateArray());
        Assert.Equal("text", text.Str("type"));
        Assert.Equal("What is the weather like in Boston today?", text.Str("text"));
        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.Equal("get_current_weather", tool.Str("name"));
        Assert.Equal("Get the current weather in a given location", tool.Str("description"));
        Assert.Equal("object", tool.GetProperty("input_schema").Str("type"));
        Assert.Equal(["celsius", "fahrenheit"], tool.GetProperty("input_schema").GetProperty("properties").GetProperty("unit").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("location", tool.GetProperty("input_schema").GetProperty("required")[0].GetString());
        Assert.False(tool.Has("type"));
        Assert.False(tool.Has("function"));
        Assert.Equal("auto", body.GetProperty("tool_choice").Str("type"));
        Assert.False(body.Has("stream"));
    }

    [Fact]
    public void System_and_developer_messages_become_the_top_level_system()
    {
        var single = TranslationKit.Request(T, """{"model":"m","messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"}]}""");
        Assert.Equal("Be terse.", single.Str("system"));
        Assert.Single(single.GetProperty("messages").EnumerateArray());

        var several = TranslationKit.Request(T, """
            {"model":"m","messages":[
              {"role":"system","content":"Be terse."},
              {"role":"developer","content":[{"type":"text","text":"Answer in French."},{"type":"text","text":"No emoji.","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":"Hi"}]}
            """);
        var blocks = several.GetProperty("system").EnumerateArray().ToList();
        Assert.Equal(["Be terse.", "Answer in French.", "No emoji."], blocks.Select(b => b.Str("text")));
        Assert.All(blocks, b => Assert.Equal("text", b.Str("type")));
        Assert.Equal("ephemeral", blocks[2].GetProperty("cache_control").Str("type"));
        Assert.Equal("user", Assert.Single(several.GetProperty("messages").EnumerateArray()).Str("role"));
    }

    [Fact]
    public void Images_by_https_url_and_by_data_url_become_url_and_base64_image_blocks()
    {
        var body = TranslationKit.Request(T, DocExamples.ChatVisionRequest);

        Assert.Equal(300, body.Num("max_tokens"));
        var content = Assert.Single(body.GetProperty("messages").EnumerateArray()).GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(3, content.Count);
        Assert.Equal("What's in this image?", content[0].Str("text"));
        Assert.Equal("image", content[1].Str("type"));
        Assert.Equal("url", content[1].GetProperty("source").Str("type"));
        Assert.Equal("https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg", content[1].GetProperty("source").Str("url"));
        Assert.Equal("image", content[2].Str("type"));
        var source = content[2].GetProperty("source");
        Assert.Equal("base64", source.Str("type"));
        Assert.Equal("image/jpeg", source.Str("media_type"));
        Assert.Equal("/9j/4AAQSkZJRgABAQAAAQABAAD", source.Str("data"));
    }

    [Fact]
    public void A_two_turn_conversation_with_parallel_tool_calls_merges_the_tool_results_into_one_user_message()
    {
        var body = TranslationKit.Request(T, DocExamples.ChatParallelToolConversation);

        Assert.Equal("You are a helpful weather assistant.", body.Str("system"));
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m.Str("role")));

        var calls = messages[1].GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal("tool_use", c.Str("type")));
        Assert.Equal(["call_12345xyz", "call_67890abc"], calls.Select(c => c.Str("id")));
        Assert.All(calls, c => Assert.Equal("get_weather", c.Str("name")));
        Assert.Equal(JsonValueKind.Object, calls[0].GetProperty("input").ValueKind);
        Assert.Equal("Paris, France", calls[0].GetProperty("input").Str("location"));
        Assert.Equal("Bogotá, Colombia", calls[1].GetProperty("input").Str("location"));

        var results = messages[2].GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(["tool_result", "tool_result", "text"], results.Select(r => r.Str("type")));
        Assert.Equal("call_12345xyz", results[0].Str("tool_use_id"));
        Assert.Equal("18°C, cloudy", results[0].Str("content"));
        Assert.Equal("call_67890abc", results[1].Str("tool_use_id"));
        Assert.Equal("22°C, sunny", results[1].Str("content"));
        Assert.Equal("Which one is warmer?", results[2].Str("text"));

        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.False(tool.Has("strict"));
        Assert.False(tool.GetProperty("input_schema").GetProperty("additionalProperties").GetBoolean());
    }

    [Fact]
    public void Consecutive_same_role_messages_merge_so_roles_alternate()
    {
        var body = TranslationKit.Request(T, """
            {"model":"m","messages":[
              {"role":"user","content":"First."},{"role":"user","content":[{"type":"text","text":"Second."}]},
              {"role":"assistant","content":"A."},{"role":"assistant","content":[{"type":"text","text":"B."}]},
              {"role":"assistant","content":""},
              {"role":"user","content":"Third."}]}
            """);

        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m.Str("role")));
        Assert.Equal(["First.", "Second."], messages[0].GetProperty("content").EnumerateArray().Select(b => b.Str("text")));
        Assert.Equal(["A.", "B."], messages[1].GetProperty("content").EnumerateArray().Select(b => b.Str("text")));
    }

    [Theory]
    [InlineData("\"auto\"", "auto", null)]
    [InlineData("\"none\"", "none", null)]
    [InlineData("\"required\"", "any", null)]
    [InlineData("""{"type":"function","function":{"name":"get_weather"}}""", "tool", "get_weather")]
    public void Tool_choice_maps_to_its_anthropic_form(string choice, string type, string? name)
    {
        var body = TranslationKit.Request(T, Tools("\"tool_choice\":" + choice));

        var toolChoice = body.GetProperty("tool_choice");
        Assert.Equal(type, toolChoice.Str("type"));
        Assert.Equal(name, toolChoice.TryGetProperty("name", out var n) ? n.GetString() : null);
        Assert.False(toolChoice.Has("disable_parallel_tool_use"));
    }

    [Fact]
    public void Parallel_tool_calls_false_disables_parallel_tool_use()
    {
        var named = TranslationKit.Request(T, Tools("""
            "tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false
            """));
        Assert.True(named.GetProperty("tool_choice").GetProperty("disable_parallel_tool_use").GetBoolean());
        Assert.Equal("tool", named.GetProperty("tool_choice").Str("type"));

        var defaulted = TranslationKit.Request(T, Tools("\"parallel_tool_calls\":false"));
        Assert.Equal("auto", defaulted.GetProperty("tool_choice").Str("type"));
        Assert.True(defaulted.GetProperty("tool_choice").GetProperty("disable_parallel_tool_use").GetBoolean());

        var none = TranslationKit.Request(T, Tools("\"tool_choice\":\"none\",\"parallel_tool_calls\":false"));
        Assert.False(none.GetProperty("tool_choice").Has("disable_parallel_tool_use"));

        var parallel = TranslationKit.Request(T, Tools("\"parallel_tool_calls\":true"));
        Assert.False(parallel.Has("tool_choice"));
    }

    [Fact]
    public void Stop_max_tokens_sampling_and_user_map_to_their_anthropic_names()
    {
        var one = TranslationKit.Request(T, """
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"stop":"END","max_tokens":100,"temperature":0.2,"top_p":0.8,"user":"user-42"}
            """);
        Assert.Equal(["END"], one.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(100, one.Num("max_tokens"));
        Assert.Equal(0.2, one.GetProperty("temperature").GetDouble());
        Assert.Equal(0.8, one.GetProperty("top_p").GetDouble());
        Assert.Equal("user-42", one.GetProperty("metadata").Str("user_id"));
        Assert.False(one.Has("stop"));
        Assert.False(one.Has("user"));

        var many = TranslationKit.Request(T, """
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"stop":["END","\n\nUser:"],"max_tokens":100,"max_completion_tokens":50}
            """);
        Assert.Equal(["END", "\n\nUser:"], many.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(50, many.Num("max_tokens"));
    }

    [Fact]
    public void Untranslatable_parameters_are_refused_by_name()
    {
        var error = TranslationKit.RequestError(T, """
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"n":2,"logprobs":true,"top_logprobs":3,"logit_bias":{"50256":-100},
             "presence_penalty":0.5,"frequency_penalty":0.5,"seed":7,"response_format":{"type":"json_object"},"audio":{"voice":"alloy","format":"wav"},
             "modalities":["text","audio"],"prediction":{"type":"content","content":"x"}}
            """);

        Assert.Equal("n", error.Param);
        foreach (var name in new[] { "n", "logprobs", "top_logprobs", "logit_bias", "presence_penalty", "frequency_penalty", "seed", "response_format", "audio", "modalities", "prediction" })
        {
            Assert.Contains("'" + name + "'", error.Message, StringComparison.Ordinal);
        }

        Assert.Contains("cannot be sent to an Anthropic model", error.Message, StringComparison.Ordinal);
        Assert.Contains("drop_unsupported_params", error.Message, StringComparison.Ordinal);
        Assert.Equal(400, error.ToGatewayError().Status);
        Assert.Equal("n", error.ToGatewayError().Param);

        var one = TranslationKit.RequestError(T, """{"model":"m","messages":[{"role":"user","content":"Hi"}],"seed":7}""");
        Assert.Equal("'seed' cannot be sent to an Anthropic model; remove it, or set drop_unsupported_params on the route.", one.Message);
    }

    [Fact]
    public void Untranslatable_parameters_are_dropped_when_the_route_says_so()
    {
        var body = TranslationKit.Request(T, """
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"n":2,"logprobs":true,"seed":7,"presence_penalty":0.5,"response_format":{"type":"json_object"}}
            """, drop: true);

        Assert.Equal(["model", "max_tokens", "messages"], body.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Harmless_no_ops_pass_silently_and_a_stream_stays_a_stream()
    {
        var body = TranslationKit.Request(T, """
            {"model":"m","messages":[{"role":"user","content":"Hi"}],"n":1,"response_format":{"type":"text"},"store":false,"stream":true,
             "stream_options":{"include_usage":true},"logprobs":false,"presence_penalty":0,"seed":null,"metadata":{"a":"b"}}
            """);

        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.False(body.Has("stream_options"));
        Assert.False(body.Has("n"));
        Assert.False(body.Has("metadata"));
    }

    [Fact]
    public void Tool_arguments_that_are_not_a_json_object_are_refused_and_malformed_bodies_too()
    {
        var error = TranslationKit.RequestError(T, """
            {"model":"m","messages":[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"not json"}}]}]}
            """);
        Assert.Equal("messages", error.Param);

        Assert.Null(TranslationKit.RequestError(T, "{not json").Param);
        Assert.Equal("messages", TranslationKit.RequestError(T, """{"model":"m","messages":{}}""").Param);
        Assert.Equal("messages", TranslationKit.RequestError(T, """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}""").Param);
    }

    [Fact]
    public void An_assistant_tool_call_with_empty_arguments_sends_an_empty_input_object()
    {
        var body = TranslationKit.Request(T, """
            {"model":"m","messages":[{"role":"user","content":"Time?"},{"role":"assistant","content":"Checking.","tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":""}}]},
             {"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"12:00"}]}]}
            """);

        var assistant = body.GetProperty("messages")[1].GetProperty("content");
        Assert.Equal("Checking.", assistant[0].Str("text"));
        Assert.Equal(JsonValueKind.Object, assistant[1].GetProperty("input").ValueKind);
        Assert.Empty(assistant[1].GetProperty("input").EnumerateObject());
        var result = body.GetProperty("messages")[2].GetProperty("content")[0];
        Assert.Equal("12:00", result.GetProperty("content")[0].Str("text"));
    }

    private static string Tools(string extra) => """
        {"model":"m","messages":[{"role":"user","content":"Weather?"}],
         "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}],
        """ + extra + "}";
}

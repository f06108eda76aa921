using System.Text;
using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// The mock's tool calling on Chat Completions and Anthropic Messages, called directly (no gateway), so the wire format
/// the route tests rely on is the real APIs': a call to the first tool when tools are offered, text quoting the tool
/// result when the last message is one, plain text for <c>tool_choice</c> none.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MockToolCallTests(GatewayHost host)
{
    private const string ChatTools = """
        "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}}}}}]
        """;

    private const string MessagesTools = """
        "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]
        """;

    [Fact]
    public async Task Chat_answers_a_tool_call_with_arguments_fitting_the_schema()
    {
        var body = await PostJson("/v1/chat/completions", $$"""{"model":"echo","messages":[{"role":"user","content":"weather?"}],{{ChatTools}}}""");

        var choice = body.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var call = Assert.Single(message.GetProperty("tool_calls").EnumerateArray());
        Assert.StartsWith("call_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"city":"Paris","days":1,"unit":"celsius"}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal(8, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_streams_a_tool_call_as_a_named_delta_then_argument_fragments()
    {
        var events = await PostSse("/v1/chat/completions", $$"""{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather?"}],{{ChatTools}}}""");

        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        var first = chunks[0].GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("assistant", first.GetProperty("role").GetString());
        var named = first.GetProperty("tool_calls")[0];
        Assert.Equal(0, named.GetProperty("index").GetInt32());
        Assert.StartsWith("call_", named.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("function", named.GetProperty("type").GetString());
        Assert.Equal("get_weather", named.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("", named.GetProperty("function").GetProperty("arguments").GetString());
        var fragments = chunks.Skip(1).Where(c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out _))
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0]).ToList();
        Assert.True(fragments.Count > 1);
        Assert.All(fragments, f => Assert.False(f.TryGetProperty("id", out _)));
        Assert.Equal("""{"city":"Paris","days":1,"unit":"celsius"}""", string.Concat(fragments.Select(f => f.GetProperty("function").GetProperty("arguments").GetString())));
        Assert.Equal("tool_calls", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(8, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_quotes_a_tool_result_and_honours_tool_choice_none()
    {
        var result = await PostJson("/v1/chat/completions", $$$"""{"model":"echo","messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"}],{{{ChatTools}}}}""");
        var none = await PostJson("/v1/chat/completions", $$"""{"model":"echo","messages":[{"role":"user","content":"weather?"}],"tool_choice":"none",{{ChatTools}}}""");

        Assert.Equal("The tool returned: sunny", result.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", result.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("Tollgate meters every token that passes through the", none.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.False(none.GetProperty("choices")[0].GetProperty("message").TryGetProperty("tool_calls", out _));
    }

    [Fact]
    public async Task Messages_answers_a_tool_use_block()
    {
        var body = await PostJson("/v1/messages", $$"""{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"weather?"}],{{MessagesTools}}}""");

        Assert.Equal("tool_use", body.GetProperty("stop_reason").GetString());
        var block = Assert.Single(body.GetProperty("content").EnumerateArray());
        Assert.Equal("tool_use", block.GetProperty("type").GetString());
        Assert.StartsWith("toolu_", block.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("get_weather", block.GetProperty("name").GetString());
        Assert.Equal("Paris", block.GetProperty("input").GetProperty("city").GetString());
    }

    [Fact]
    public async Task Messages_streams_tool_use_as_input_json_deltas()
    {
        var events = await PostSse("/v1/messages", $$"""{"model":"claude","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"weather?"}],{{MessagesTools}}}""");

        var data = events.Select(e => (e.Event, Json: JsonDocument.Parse(e.Data).RootElement)).ToList();
        Assert.Equal(["message_start", "content_block_start", "ping"], data.Take(3).Select(d => d.Event));
        var start = data[1].Json.GetProperty("content_block");
        Assert.Equal("tool_use", start.GetProperty("type").GetString());
        Assert.Equal("get_weather", start.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Object, start.GetProperty("input").ValueKind);
        var deltas = data.Where(d => d.Event == "content_block_delta").Select(d => d.Json.GetProperty("delta")).ToList();
        Assert.All(deltas, d => Assert.Equal("input_json_delta", d.GetProperty("type").GetString()));
        Assert.Equal("""{"city":"Paris"}""", string.Concat(deltas.Select(d => d.GetProperty("partial_json").GetString())));
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], data.TakeLast(3).Select(d => d.Event));
        Assert.Equal("tool_use", data[^2].Json.GetProperty("delta").GetProperty("stop_reason").GetString());
    }

    [Fact]
    public async Task Messages_quotes_a_tool_result_and_honours_tool_choice_none()
    {
        var result = await PostJson("/v1/messages", $$$"""{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"sunny"}]}]}],{{{MessagesTools}}}}""");
        var none = await PostJson("/v1/messages", $$"""{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"weather?"}],"tool_choice":{"type":"none"},{{MessagesTools}}}""");

        Assert.Equal("end_turn", result.GetProperty("stop_reason").GetString());
        Assert.Equal("The tool returned: sunny", Assert.Single(result.GetProperty("content").EnumerateArray()).GetProperty("text").GetString());
        Assert.Equal("end_turn", none.GetProperty("stop_reason").GetString());
        Assert.Equal("text", Assert.Single(none.GetProperty("content").EnumerateArray()).GetProperty("type").GetString());
    }

    private async Task<JsonElement> PostJson(string path, string json)
    {
        using var response = await host.Http.PostAsync(host.Mock.BaseUrl + path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task<List<(string? Event, string Data)>> PostSse(string path, string json)
    {
        using var response = await host.Http.PostAsync(host.Mock.BaseUrl + path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        var events = new List<(string?, string)>();
        foreach (var block in (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            var name = lines.FirstOrDefault(l => l.StartsWith("event: ", StringComparison.Ordinal))?["event: ".Length..];
            events.Add((name, lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]));
        }

        return events;
    }
}

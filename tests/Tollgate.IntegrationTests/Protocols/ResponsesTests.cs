#pragma warning disable OPENAI001 // the Responses client is marked experimental in the SDK
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Responses;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The OpenAI Responses API through the same pipeline as chat: the official SDK, metering, follow-ups, agents' bodies.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ResponsesTests(GatewayHost host)
{
    private const string EightWords = "Tollgate meters every token that passes through the";

    private ResponsesClient Client(string key) =>
        new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(host.BaseUrl + "/v1"), RetryPolicy = new ClientRetryPolicy(0) }).GetResponsesClient();

    [Fact]
    public async Task The_sdks_responses_client_gets_the_answer_and_the_call_is_metered_exactly()
    {
        var (id, key) = await host.CreateKey();

        ResponseResult response = await Client(key).CreateResponseAsync("mock/echo", "Say something.");

        Assert.Equal(EightWords, response.GetOutputText());
        Assert.Equal(12, response.Usage.InputTokenCount);
        Assert.Equal(8, response.Usage.OutputTokenCount);
        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(12, record.Long("input_tokens"));
        Assert.Equal(8, record.Long("output_tokens"));
        Assert.Equal(0.000028m, record.Cost);
        Assert.Equal(response.Id, record.Text("response_id"));
        Assert.False(record.Estimated);
    }

    [Fact]
    public async Task The_sdks_streaming_responses_relay_every_delta_and_meter_the_terminal_event()
    {
        var (id, key) = await host.CreateKey();
        var text = new StringBuilder();
        ResponseTokenUsage? usage = null;

        await foreach (var update in await Client(key).CreateResponseStreamingAsync("mock/echo", "Say something."))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            else if (update is StreamingResponseCompletedUpdate completed)
            {
                usage = completed.Response.Usage;
            }
        }

        Assert.Equal(EightWords, text.ToString());
        Assert.Equal(8, usage?.OutputTokenCount);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(1, record.Long("stream"));
        Assert.Equal(8, record.Long("output_tokens"));
        Assert.False(record.Estimated);
    }

    [Fact]
    public async Task Cached_and_reasoning_tokens_are_read_from_the_response_usage()
    {
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/responses", key, """{"model":"mock/echo","input":"hi"}""",
            ("x-mock-prompt-tokens", "2000"), ("x-mock-cached-tokens", "1500"), ("x-mock-reasoning-tokens", "5"));

        Assert.Equal(200, (int)response.StatusCode);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(2000, record.Long("input_tokens"));
        Assert.Equal(1500, record.Long("cached_tokens"));
        Assert.Equal(8, record.Long("output_tokens"));
        Assert.Equal(5, record.Long("reasoning_tokens"));
        // 500 × 1.00 + 1500 × 0.10 + 8 × 2.00 per million
        Assert.Equal(0.000666m, record.Cost);
        Assert.Equal("0.000666", response.Headers.GetValues("X-Tollgate-Cost").Single());
    }

    [Theory]
    [InlineData("failed", "response_failed", "response.failed")]
    [InlineData("incomplete", "response_incomplete", "response.incomplete")]
    public async Task Failed_and_incomplete_streams_are_metered_from_their_terminal_event(string kind, string errorClass, string terminal)
    {
        var (id, key) = await host.CreateKey();
        (string, string)[] headers = kind == "failed" ? [("x-mock-response-status", "failed")] : [];
        var body = kind == "incomplete" ? """{"model":"mock/echo","input":"hi","stream":true,"max_output_tokens":3}""" : """{"model":"mock/echo","input":"hi","stream":true}""";

        using var response = await host.Proxy("/v1/responses", key, body, headers);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("event: " + terminal, text, StringComparison.Ordinal);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(errorClass, record.Text("error_class"));
        Assert.Equal(kind == "incomplete" ? 3 : 8, record.Long("output_tokens"));
        Assert.False(record.Estimated);
    }

    [Fact]
    public async Task A_responses_stream_cancelled_by_the_client_yields_one_estimated_record()
    {
        var (id, key) = await host.CreateKey();
        using (var response = await host.Proxy("/v1/responses", key, """{"model":"mock/echo","input":"hi","stream":true}""", ("x-mock-chunk-delay-ms", "100"), ("x-mock-completion-tokens", "200")))
        {
            using var stream = await response.Content.ReadAsStreamAsync();
            var seen = new StringBuilder();
            var buffer = new byte[1024];
            while (!seen.ToString().Contains("response.output_text.delta", StringComparison.Ordinal))
            {
                seen.Append(Encoding.UTF8.GetString(buffer, 0, await stream.ReadAsync(buffer)));
            }
        }

        var record = Assert.Single(await host.WaitForRecords(id, 1));
        Assert.Equal("client_cancelled", record.Text("error_class"));
        Assert.True(record.Estimated);
        Assert.InRange(record.Long("output_tokens"), 1, 199);
        Assert.True(record.Long("input_tokens") > 0);
        Assert.StartsWith("resp_", record.Text("response_id"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Follow_ups_reach_the_creating_provider_only_for_the_creating_key()
    {
        var (ownerId, owner) = await host.CreateKey();
        var (_, other) = await host.CreateKey();
        ResponseResult created = await Client(owner).CreateResponseAsync("mock/echo", "hi");
        var before = host.Mock.Log.Count;

        var stranger = await Assert.ThrowsAsync<ClientResultException>(() => Client(other).GetResponseAsync(created.Id));
        using var strangerDelete = await Send(HttpMethod.Delete, "/v1/responses/" + created.Id, other);
        using var strangerCancel = await Send(HttpMethod.Post, "/v1/responses/" + created.Id + "/cancel", other);
        using var strangerItems = await Send(HttpMethod.Get, "/v1/responses/" + created.Id + "/input_items", other);
        Assert.Equal(404, stranger.Status);
        await ApiErrors.AssertError(strangerDelete, "/v1/responses", 404, "not_found");
        await ApiErrors.AssertError(strangerCancel, "/v1/responses", 404, "not_found");
        await ApiErrors.AssertError(strangerItems, "/v1/responses", 404, "not_found");
        Assert.Equal(before, host.Mock.Log.Count); // nothing forwarded

        ResponseResult fetched = await Client(owner).GetResponseAsync(created.Id);
        using var items = await Send(HttpMethod.Get, "/v1/responses/" + created.Id + "/input_items?limit=5", owner);
        using var cancelled = await Send(HttpMethod.Post, "/v1/responses/" + created.Id + "/cancel", owner);
        ResponseDeletionResult deleted = await Client(owner).DeleteResponseAsync(created.Id);

        Assert.Equal(created.Id, fetched.Id);
        Assert.Equal(200, (int)items.StatusCode);
        Assert.Equal("/v1/responses/" + created.Id + "/input_items", host.Mock.Log.Requests.Reverse().Skip(2).First().Path);
        Assert.Equal(200, (int)cancelled.StatusCode);
        Assert.True(deleted.Deleted);
        var records = await host.Records(ownerId);
        Assert.Equal(["chat", "responses.retrieve", "responses.input_items", "responses.cancel", "responses.delete"], records.Select(r => r.Text("operation")));
        Assert.All(records.Skip(1), r => Assert.Equal(0m, r.Cost));
    }

    [Fact]
    public async Task Previous_response_id_continues_only_with_the_same_key_and_provider()
    {
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = "mock2", kind = "openai_compatible", base_url = host.Mock.BaseUrl + "/v1" })).EnsureSuccessStatusCode();
        var (_, owner) = await host.CreateKey();
        var (_, other) = await host.CreateKey();
        ResponseResult first = await Client(owner).CreateResponseAsync("mock/echo", "hi");
        string Continue(string model) => $$"""{"model":"{{model}}","input":"and then?","previous_response_id":"{{first.Id}}"}""";

        using var same = await host.Proxy("/v1/responses", owner, Continue("mock/echo"));
        using var otherKey = await host.Proxy("/v1/responses", other, Continue("mock/echo"));
        using var otherProvider = await host.Proxy("/v1/responses", owner, Continue("mock2/echo"));
        using var unknown = await host.Proxy("/v1/responses", owner, """{"model":"mock/echo","input":"x","previous_response_id":"resp_never_seen"}""");

        Assert.Equal(200, (int)same.StatusCode);
        await ApiErrors.AssertError(otherKey, "/v1/responses", 404, "not_found");
        await ApiErrors.AssertError(otherProvider, "/v1/responses", 400, "invalid_request");
        await ApiErrors.AssertError(unknown, "/v1/responses", 404, "not_found");
    }

    [Fact]
    public async Task Background_responses_are_refused_until_they_can_be_metered()
    {
        var (_, key) = await host.CreateKey();
        var before = host.Mock.Log.Count;

        using var response = await host.Proxy("/v1/responses", key, """{"model":"mock/echo","input":"x","background":true}""");

        await ApiErrors.AssertError(response, "/v1/responses", 400, "invalid_request");
        Assert.Contains("background", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, host.Mock.Log.Count);
    }

    [Fact]
    public async Task A_responses_request_for_an_anthropic_model_names_the_endpoint_to_use()
    {
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = "claude", kind = "anthropic", api_key = "sk-ant" })).EnsureSuccessStatusCode();
        var (_, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/responses", key, """{"model":"claude/claude-sonnet-4-5","input":"x"}""");

        await ApiErrors.AssertError(response, "/v1/responses", 400, "invalid_request");
        Assert.Contains("/v1/messages", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_websocket_upgrade_on_the_responses_path_is_refused_at_once()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, host.BaseUrl + "/v1/responses");
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));

        using var response = await host.Http.SendAsync(request);

        Assert.Equal(426, (int)response.StatusCode);
    }

    [Fact]
    public async Task A_coding_agents_large_body_and_headers_pass_through_untouched()
    {
        var (id, key) = await host.CreateKey();
        var instructions = string.Concat(Enumerable.Repeat("You are a coding agent. Follow the repository's conventions. ", 800));
        var body = $$$"""
            {"model":"mock/echo","instructions":{{{JsonSerializer.Serialize(instructions)}}},
             "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"fix the bug"}]}],
             "tools":[{"type":"namespace","name":"shell","tools":[]},{"type":"web_search"}],
             "tool_choice":"auto","parallel_tool_calls":false,"store":false,"stream":true,
             "include":["reasoning.encrypted_content"],"reasoning":{"effort":"medium","summary":"auto"},
             "prompt_cache_key":"0199-session","client_metadata":{"originator":"codex_cli_rs"},"text":{"verbosity":"low"}}
            """;
        Assert.True(body.Length > 40_000);

        using var response = await host.Proxy("/v1/responses", key, body, ("OpenAI-Beta", "responses=experimental"), ("session-id", "0199-session"), ("originator", "codex_cli_rs"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("event: response.completed", text, StringComparison.Ordinal);
        var seen = host.Mock.Log.Last!;
        Assert.Equal(body.Replace("\"mock/echo\"", "\"echo\"", StringComparison.Ordinal), Encoding.UTF8.GetString(seen.Body));
        Assert.Equal("responses=experimental", seen.Headers["OpenAI-Beta"]);
        Assert.Equal("0199-session", seen.Headers["session-id"]);
        Assert.Equal("codex_cli_rs", seen.Headers["originator"]);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal("0199-session", record.Text("session"));
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, host.BaseUrl + path);
        request.Headers.Authorization = new("Bearer", key);
        return host.Http.SendAsync(request);
    }
}

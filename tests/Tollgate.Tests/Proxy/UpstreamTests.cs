using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

[Collection(GatewayCollection.Name)]
public sealed class UpstreamTests(GatewayHost host)
{
    [Fact]
    public async Task The_clients_credentials_never_reach_the_provider_but_the_provider_key_and_provider_headers_do()
    {
        var (_, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(),
            ("OpenAI-Beta", "assistants=v2"), ("X-Project-ID", "apollo"), ("Cookie", "session=1"), ("x-api-key", key));

        Assert.Equal(200, (int)response.StatusCode);
        var seen = host.Mock.Log.Last!.Headers;
        Assert.Equal("Bearer " + GatewayHost.UpstreamKey, seen["Authorization"]);
        Assert.Equal("assistants=v2", seen["OpenAI-Beta"]);
        Assert.False(seen.ContainsKey("X-Project-ID"));
        Assert.False(seen.ContainsKey("Cookie"));
        Assert.False(seen.ContainsKey("x-api-key"));
        Assert.DoesNotContain(seen.Values, v => v.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Non_streaming_responses_carry_the_request_id_and_the_cost_of_the_call()
    {
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());

        Assert.Equal("0.000028", response.Headers.GetValues("X-Tollgate-Cost").Single());
        var requestId = response.Headers.GetValues("X-Tollgate-Request-Id").Single();
        Assert.Equal(requestId, Assert.Single(await host.Records(id)).Text("id"));
    }

    [Fact]
    public async Task A_provider_5xx_becomes_502_upstream_error_and_is_recorded()
    {
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("x-mock-status", "503"));

        await ApiErrors.AssertError(response, "/v1/chat/completions", 502, "upstream_error");
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(502, record.Long("status"));
        Assert.Equal("upstream_503", record.Text("error_class"));
        Assert.Equal(0m, record.Cost);
    }

    [Fact]
    public async Task A_provider_4xx_is_relayed_as_the_provider_sent_it_and_recorded()
    {
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/messages", key, """{"model":"mock/echo","max_tokens":5,"messages":[]}""", ("x-mock-status", "429"));

        Assert.Equal(429, (int)response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("mock", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(429, record.Long("status"));
        Assert.Equal("upstream_429", record.Text("error_class"));
    }

    [Fact]
    public async Task An_unreachable_provider_gives_502_and_a_record_of_nothing_consumed()
    {
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = "down", kind = "openai_compatible", base_url = "http://127.0.0.1:9/v1" })).EnsureSuccessStatusCode();
        (await host.Admin(HttpMethod.Put, "/admin/prices/down/model", new { input_per_mtok = 5.00m, output_per_mtok = 15.00m })).EnsureSuccessStatusCode();
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("down/model"));

        await ApiErrors.AssertError(response, "/v1/chat/completions", 502, "upstream_error");
        // Nothing was sent, so nothing can be billed: the record stays, with its error class, at zero tokens and cost.
        var record = Assert.Single(await host.Records(id));
        Assert.Equal("upstream_connect", record.Text("error_class"));
        Assert.Equal((0L, 0L, 0m, false), (record.Long("input_tokens"), record.Long("output_tokens"), record.Cost, record.Estimated));
        var usage = (await host.AdminJson(HttpMethod.Get, "/admin/usage?group_by=key")).EnumerateArray().Single(r => r.GetProperty("key").GetString() == id);
        Assert.Equal((1, 0L, 0m), (usage.GetProperty("requests").GetInt32(), usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("cost").GetDecimal()));
    }

    [Fact]
    public async Task A_slow_provider_gives_504_upstream_timeout()
    {
        await using var slow = new GatewayHost(s => s.UpstreamTimeoutSeconds = 1);
        await slow.InitializeAsync();
        var (id, key) = await slow.CreateKey();

        using var response = await slow.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("x-mock-latency-ms", "5000"));

        await ApiErrors.AssertError(response, "/v1/chat/completions", 504, "upstream_timeout");
        // The request was sent and the provider may bill it: the record keeps the input estimate and its cost.
        var record = Assert.Single(await slow.Records(id));
        Assert.Equal("upstream_timeout", record.Text("error_class"));
        Assert.True(record.Estimated);
        Assert.Equal(Gateway.Metering.TokenEstimator.EstimateInput(System.Text.Encoding.UTF8.GetBytes(GatewayHost.Chat())), record.Long("input_tokens"));
        Assert.True(record.Cost > 0);
    }

    [Fact]
    public async Task Chat_to_an_anthropic_provider_is_refused_with_the_endpoint_to_use()
    {
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = "claude", kind = "anthropic", api_key = "sk-ant" })).EnsureSuccessStatusCode();
        var (_, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("claude/claude-sonnet-4-5"));

        await ApiErrors.AssertError(response, "/v1/chat/completions", 400, "invalid_request");
        Assert.Contains("/v1/messages", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

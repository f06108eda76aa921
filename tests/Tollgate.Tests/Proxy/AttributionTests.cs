using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AttributionTests(GatewayHost host)
{
    [Fact]
    public async Task Attribution_headers_are_recorded_and_never_override_the_keys_owner()
    {
        var (id, key) = await host.CreateKey(new { name = "owned", owner = new { team = "search", project = "ranking", cost_center = "cc-42" } });

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(),
            ("X-Project-ID", "other-project"), ("X-User-ID", "alice"), ("X-Environment", "production"), ("X-Feature", "autocomplete"),
            ("X-Customer-ID", "acme"), ("X-Cost-Center", "cc-99"), ("X-Agent-ID", "planner"), ("X-Session-ID", "run-7"));

        Assert.Equal(200, (int)response.StatusCode);
        var r = Assert.Single(await host.Records(id));
        Assert.Equal("search", r.Text("team"));
        Assert.Equal("ranking", r.Text("project"));
        Assert.Equal("cc-42", r.Text("cost_center"));
        Assert.Equal("alice", r.Text("user"));
        Assert.Equal("acme", r.Text("customer"));
        Assert.Equal("production", r.Text("environment"));
        Assert.Equal("autocomplete", r.Text("feature"));
        Assert.Equal("planner", r.Text("agent"));
        Assert.Equal("run-7", r.Text("session"));
    }

    [Theory]
    [InlineData("X-Project-ID")]
    [InlineData("X-Session-ID")]
    public async Task Attribution_values_longer_than_128_characters_are_refused(string header)
    {
        var (_, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), (header, new string('p', 129)));

        await ApiErrors.AssertError(response, "/v1/chat/completions", 400, "invalid_request");
    }

    [Fact]
    public async Task A_required_header_that_is_missing_gets_400_missing_attribution_naming_it()
    {
        await using var strict = new GatewayHost(s => s.RequiredHeaders = ["X-Project-ID", "X-User-ID"]);
        await strict.InitializeAsync();
        var (id, key) = await strict.CreateKey();
        var (_, ownedKey) = await strict.CreateKey(new { name = "owned", owner = new { project = "p1" } });
        var before = strict.Mock.Log.Count;

        using var missing = await strict.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("X-Project-ID", "p1"));
        using var anthropic = await strict.Proxy("/v1/messages", key, """{"model":"mock/echo","max_tokens":5,"messages":[]}""");
        using var complete = await strict.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("X-Project-ID", "p1"), ("X-User-ID", "bob"));
        using var fromOwner = await strict.Proxy("/v1/chat/completions", ownedKey, GatewayHost.Chat(), ("X-User-ID", "bob"));

        await ApiErrors.AssertError(missing, "/v1/chat/completions", 400, "missing_attribution");
        Assert.Contains("X-User-ID", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await ApiErrors.AssertError(anthropic, "/v1/messages", 400, "missing_attribution");
        Assert.Equal(200, (int)complete.StatusCode);
        Assert.Equal(200, (int)fromOwner.StatusCode);
        Assert.Equal(before + 2, strict.Mock.Log.Count);
        Assert.Single(await strict.Records(id));
    }
}

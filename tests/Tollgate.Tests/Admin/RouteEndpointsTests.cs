using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Routing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Routes as configuration (docs/api.md "Routes"): the admin API, its checks, audit, persistence.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RouteEndpointsTests(GatewayHost host)
{
    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static object Full(string name) => new
    {
        name,
        targets = new object[] { new { model = "openai/gpt-4o-mini", weight = 3 }, new { model = "anthropic/claude-haiku-4-5", weight = 1 } },
        rules = new object[]
        {
            new { when = new { min_input_tokens = 1000, has_tools = true, matches = "(?i)translate", team = "ml", header = new Dictionary<string, string> { ["x-tier"] = "gold" }, complexity = "high" }, model = "openai/gpt-4.1" },
        },
        downgrade = new { at = 0.8m, model = "openai/gpt-4o-mini" },
        fallbacks = new[] { "anthropic/claude-haiku-4-5", "mock/echo" },
        retry = new { attempts = 3, backoff_ms = 100, on = new object[] { 429, 503, "timeout" } },
        cooldown = new { failures = 5, seconds = 60 },
        drop_unsupported_params = true,
    };

    [Fact]
    public async Task A_route_is_created_read_listed_edited_and_deleted_through_the_admin_API()
    {
        var name = Unique("smart");

        using var created = await host.Admin(HttpMethod.Post, "/admin/routes", Full(name));
        var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(201, (int)created.StatusCode);
        Assert.Equal(name, body.GetProperty("name").GetString());
        Assert.Equal([("openai/gpt-4o-mini", 3), ("anthropic/claude-haiku-4-5", 1)],
            body.GetProperty("targets").EnumerateArray().Select(t => (t.GetProperty("model").GetString(), t.GetProperty("weight").GetInt32())));
        var when = body.GetProperty("rules")[0].GetProperty("when");
        Assert.Equal((1000, true, "(?i)translate", "ml", "gold", "high"), (when.GetProperty("min_input_tokens").GetInt32(), when.GetProperty("has_tools").GetBoolean(),
            when.GetProperty("matches").GetString(), when.GetProperty("team").GetString(), when.GetProperty("header").GetProperty("x-tier").GetString(), when.GetProperty("complexity").GetString()));
        Assert.False(when.TryGetProperty("max_input_tokens", out _)); // unset conditions are left out
        Assert.Equal("openai/gpt-4.1", body.GetProperty("rules")[0].GetProperty("model").GetString());
        Assert.Equal((0.8m, "openai/gpt-4o-mini"), (body.GetProperty("downgrade").GetProperty("at").GetDecimal(), body.GetProperty("downgrade").GetProperty("model").GetString()));
        Assert.Equal(["anthropic/claude-haiku-4-5", "mock/echo"], body.GetProperty("fallbacks").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal((3, 100), (body.GetProperty("retry").GetProperty("attempts").GetInt32(), body.GetProperty("retry").GetProperty("backoff_ms").GetInt32()));
        Assert.Equal((5, 60), (body.GetProperty("cooldown").GetProperty("failures").GetInt32(), body.GetProperty("cooldown").GetProperty("seconds").GetInt32()));
        Assert.True(body.GetProperty("drop_unsupported_params").GetBoolean());
        Assert.True(body.TryGetProperty("created_at", out _));

        var read = await host.AdminJson(HttpMethod.Get, "/admin/routes/" + name);
        Assert.Equal(body.ToString(), read.ToString());
        var list = await host.AdminJson(HttpMethod.Get, "/admin/routes");
        Assert.Contains(list.EnumerateArray(), r => r.GetProperty("name").GetString() == name);
        var names = list.EnumerateArray().Select(r => r.GetProperty("name").GetString()!).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);

        // PATCH changes only what it gives; retry and cooldown member by member; null clears the downgrade.
        var patched = await host.AdminJson(HttpMethod.Patch, "/admin/routes/" + name, new { fallbacks = new[] { "mock/large" }, retry = new { attempts = 4 }, downgrade = (object?)null });
        Assert.Equal(["mock/large"], patched.GetProperty("fallbacks").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal((4, 100, "[429,503,\"timeout\"]"), (patched.GetProperty("retry").GetProperty("attempts").GetInt32(), patched.GetProperty("retry").GetProperty("backoff_ms").GetInt32(),
            patched.GetProperty("retry").GetProperty("on").GetRawText()));
        Assert.False(patched.TryGetProperty("downgrade", out _));
        Assert.Equal(body.GetProperty("targets").ToString(), patched.GetProperty("targets").ToString());
        Assert.Equal(body.GetProperty("rules").ToString(), patched.GetProperty("rules").ToString());
        Assert.Equal(body.GetProperty("created_at").GetString(), patched.GetProperty("created_at").GetString());
        Assert.True(patched.GetProperty("drop_unsupported_params").GetBoolean());
        Assert.Equal(["mock/large"], host.Services.GetRequiredService<RouteTable>().Find(name.AsSpan())!.Fallbacks);

        using var deleted = await host.Admin(HttpMethod.Delete, "/admin/routes/" + name);
        Assert.Equal(204, (int)deleted.StatusCode);
        using var gone = await host.Admin(HttpMethod.Get, "/admin/routes/" + name);
        await ApiErrors.AssertError(gone, "/admin/routes", 404, "not_found");
        using var again = await host.Admin(HttpMethod.Delete, "/admin/routes/" + name);
        await ApiErrors.AssertError(again, "/admin/routes", 404, "not_found");
        using var patchGone = await host.Admin(HttpMethod.Patch, "/admin/routes/" + name, new { drop_unsupported_params = false });
        await ApiErrors.AssertError(patchGone, "/admin/routes", 404, "not_found");
    }

    [Fact]
    public async Task Left_out_fields_take_their_defaults()
    {
        var name = Unique("plain");

        var route = await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = "mock/echo" } } });

        Assert.Equal(1, route.GetProperty("targets")[0].GetProperty("weight").GetInt32());
        Assert.Equal(0, route.GetProperty("rules").GetArrayLength());
        Assert.Equal(0, route.GetProperty("fallbacks").GetArrayLength());
        Assert.False(route.TryGetProperty("downgrade", out _));
        Assert.Equal("""{"attempts":2,"backoff_ms":200,"on":[429,500,502,503,504,"timeout","connect","context_length"]}""", route.GetProperty("retry").GetRawText());
        Assert.Equal("""{"failures":3,"seconds":30}""", route.GetProperty("cooldown").GetRawText());
        Assert.False(route.GetProperty("drop_unsupported_params").GetBoolean());
        var stored = host.Services.GetRequiredService<RouteTable>().Find(name)!;
        Assert.Equal(RetryPolicy.Default.On, stored.Retry.On);
        Assert.Equal(CooldownPolicy.Default, stored.Cooldown);
    }

    [Fact]
    public async Task Retry_on_takes_numbers_and_strings_keeps_strings_and_writes_statuses_back_as_numbers()
    {
        var name = Unique("retry");

        var route = await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = "mock/echo" } }, retry = new { on = new object[] { 429, "502", "connect", "context_length" } } });

        Assert.Equal("[429,502,\"connect\",\"context_length\"]", route.GetProperty("retry").GetProperty("on").GetRawText());
        Assert.Equal(["429", "502", "connect", "context_length"], host.Services.GetRequiredService<RouteTable>().Find(name)!.Retry.On);
        var spec = host.ReadRows("SELECT spec FROM routes WHERE name = @n", ("@n", name)).Single().Text("spec")!;
        Assert.Contains("\"on\":[\"429\",\"502\",\"connect\",\"context_length\"]", spec, StringComparison.Ordinal);
        var listed = (await host.AdminJson(HttpMethod.Get, "/admin/routes")).EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
        Assert.Equal("[429,502,\"connect\",\"context_length\"]", listed.GetProperty("retry").GetProperty("on").GetRawText());
    }

    [Fact]
    public async Task A_weight_of_0_turns_a_target_off_while_another_carries_weight()
    {
        var route = await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name = Unique("off"), targets = new object[] { new { model = "mock/echo", weight = 0 }, new { model = "mock/small", weight = 2 } } });

        Assert.Equal([0, 2], route.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("weight").GetInt32()));
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"targets":[{"model":"mock/echo"}]}""", "name" },
        { """{"name":"","targets":[{"model":"mock/echo"}]}""", "name" },
        { $$"""{"name":"{{new string('r', 129)}}","targets":[{"model":"mock/echo"}]}""", "name" },
        { """{"name":"openai/gpt-4o","targets":[{"model":"mock/echo"}]}""", "name" },
        { """{"name":"two words","targets":[{"model":"mock/echo"}]}""", "name" },
        { """{"name":"@"}""", "targets" },
        { """{"name":"@","targets":[]}""", "targets" },
        { """{"name":"@","targets":[{"weight":1}]}""", "targets[0].model" },
        { """{"name":"@","targets":[{"model":"gpt-4o"}]}""", "targets[0].model" },
        { """{"name":"@","targets":[{"model":"openai/"}]}""", "targets[0].model" },
        { """{"name":"@","targets":[{"model":"/gpt-4o"}]}""", "targets[0].model" },
        { """{"name":"@","targets":[{"model":"mock/echo"},{"model":"mock/small","weight":-1}]}""", "targets[1].weight" },
        { """{"name":"@","targets":[{"model":"mock/echo","weight":0}]}""", "targets" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"rules":[{"model":"mock/small"}]}""", "rules[0].when" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"rules":[{"when":{},"model":"mock/small"}]}""", "rules[0].when" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"rules":[{"when":{"has_tools":true}}]}""", "rules[0].model" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"rules":[{"when":{"matches":"(unclosed"},"model":"mock/small"}]}""", "rules[0].when.matches" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"rules":[{"when":{"complexity":"medium"},"model":"mock/small"}]}""", "rules[0].when.complexity" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"rules":[{"when":{"min_input_tokens":-1},"model":"mock/small"}]}""", "rules[0].when.min_input_tokens" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"rules":[{"when":{"min_input_tokens":10,"max_input_tokens":5},"model":"mock/small"}]}""", "rules[0].when.min_input_tokens" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"downgrade":{"at":0,"model":"mock/small"}}""", "downgrade.at" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"downgrade":{"at":1.01,"model":"mock/small"}}""", "downgrade.at" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"downgrade":{"at":0.8}}""", "downgrade.model" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"fallbacks":["mock/small","other-route"]}""", "fallbacks[1]" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"attempts":0}}""", "retry.attempts" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"attempts":11}}""", "retry.attempts" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"backoff_ms":-1}}""", "retry.backoff_ms" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"backoff_ms":60001}}""", "retry.backoff_ms" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"on":[429,399]}}""", "retry.on[1]" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"on":[600]}}""", "retry.on[0]" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"on":[429.5]}}""", "retry.on[0]" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"on":["timeout","reset"]}}""", "retry.on[1]" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"cooldown":{"failures":0}}""", "cooldown.failures" },
        { """{"name":"@","targets":[{"model":"mock/echo"}],"cooldown":{"seconds":0}}""", "cooldown.seconds" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_routes_get_400_invalid_request_naming_the_field(string json, string field)
    {
        using var response = await Post(json.Replace("\"@\"", "\"" + Unique("bad") + "\"", StringComparison.Ordinal));

        await ApiErrors.AssertError(response, "/admin/routes", 400, "invalid_request");
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains(field.Split('[', '.')[0], error.GetProperty("message").GetString()!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"@","targets":[{"model":"mock/echo","weight":"heavy"}]}""")]
    [InlineData("""{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"on":[true]}}""")]
    [InlineData("""{"name":"@","targets":[{"model":"mock/echo"}],"retry":{"on":"timeout"}}""")]
    [InlineData("""[{"name":"@"}]""")]
    [InlineData("""{"name":"@",""")]
    public async Task Bodies_of_the_wrong_shape_get_400_invalid_request(string json)
    {
        using var response = await Post(json.Replace("\"@\"", "\"" + Unique("bad") + "\"", StringComparison.Ordinal));

        await ApiErrors.AssertError(response, "/admin/routes", 400, "invalid_request");
    }

    [Fact]
    public async Task A_name_is_created_once_and_never_renamed()
    {
        var name = Unique("once");
        await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = "mock/echo" } } });

        using var twice = await host.Admin(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = "mock/small" } } });
        using var rename = await host.Admin(HttpMethod.Patch, "/admin/routes/" + name, new { name = name + "-2" });
        using var badPatch = await host.Admin(HttpMethod.Patch, "/admin/routes/" + name, new { targets = Array.Empty<object>() });

        await ApiErrors.AssertError(twice, "/admin/routes", 400, "invalid_request");
        await ApiErrors.AssertError(rename, "/admin/routes", 400, "invalid_request");
        await ApiErrors.AssertError(badPatch, "/admin/routes", 400, "invalid_request");
        Assert.Equal("mock/echo", (await host.AdminJson(HttpMethod.Get, "/admin/routes/" + name)).GetProperty("targets")[0].GetProperty("model").GetString());
        var same = await host.AdminJson(HttpMethod.Patch, "/admin/routes/" + name, new { name }); // naming itself is no rename
        Assert.Equal(name, same.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Viewer_keys_may_read_routes_but_not_change_them()
    {
        var name = Unique("viewed");
        await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = "mock/echo" } } });
        var (_, viewer) = await host.CreateKey(new { name = "route-viewer", role = "viewer" });
        var (_, app) = await host.CreateKey(new { name = "route-app" });

        using var list = await host.Admin(HttpMethod.Get, "/admin/routes", key: viewer);
        using var get = await host.Admin(HttpMethod.Get, "/admin/routes/" + name, key: viewer);
        using var create = await host.Admin(HttpMethod.Post, "/admin/routes", new { name = Unique("v"), targets = new[] { new { model = "mock/echo" } } }, key: viewer);
        using var patch = await host.Admin(HttpMethod.Patch, "/admin/routes/" + name, new { fallbacks = new[] { "mock/small" } }, key: viewer);
        using var delete = await host.Admin(HttpMethod.Delete, "/admin/routes/" + name, key: viewer);
        using var appRead = await host.Admin(HttpMethod.Get, "/admin/routes", key: app);

        Assert.Equal((200, 200), ((int)list.StatusCode, (int)get.StatusCode));
        await ApiErrors.AssertError(create, "/admin/routes", 403, "forbidden");
        await ApiErrors.AssertError(patch, "/admin/routes", 403, "forbidden");
        await ApiErrors.AssertError(delete, "/admin/routes", 403, "forbidden");
        await ApiErrors.AssertError(appRead, "/admin/routes", 403, "forbidden");
        Assert.Equal(0, (await host.AdminJson(HttpMethod.Get, "/admin/routes/" + name)).GetProperty("fallbacks").GetArrayLength());
    }

    [Fact]
    public async Task Every_change_to_a_route_is_audited_with_before_and_after()
    {
        var name = Unique("audited");
        var (adminId, admin) = await host.CreateKey(new { name = "route-admin", role = "admin" });

        await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = "mock/echo" } }, retry = new { on = new object[] { 503, "timeout" } } }, admin);
        await host.AdminJson(HttpMethod.Patch, "/admin/routes/" + name, new { fallbacks = new[] { "mock/small" } });
        (await host.Admin(HttpMethod.Delete, "/admin/routes/" + name)).EnsureSuccessStatusCode();
        using (await host.Admin(HttpMethod.Post, "/admin/routes", new { name, targets = Array.Empty<object>() }))
        {
        }

        var entries = (await host.AdminJson(HttpMethod.Get, "/admin/audit")).EnumerateArray()
            .Where(e => e.GetProperty("target").GetString() == "routes/" + name).Reverse().ToList();
        Assert.Equal(["POST /admin/routes", $"PATCH /admin/routes/{name}", $"DELETE /admin/routes/{name}"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(["key:" + adminId, "master", "master"], entries.Select(e => e.GetProperty("actor").GetString()));
        Assert.False(entries[0].TryGetProperty("before", out _));
        Assert.Equal("[503,\"timeout\"]", entries[0].GetProperty("after").GetProperty("retry").GetProperty("on").GetRawText());
        Assert.Equal(0, entries[1].GetProperty("before").GetProperty("fallbacks").GetArrayLength());
        Assert.Equal("mock/small", entries[1].GetProperty("after").GetProperty("fallbacks")[0].GetString());
        Assert.Equal(name, entries[2].GetProperty("before").GetProperty("name").GetString());
        Assert.False(entries[2].TryGetProperty("after", out _));
    }

    [Fact]
    public async Task Routes_are_kept_in_the_database_and_read_again_at_a_restart()
    {
        var name = Unique("kept");
        await host.AdminJson(HttpMethod.Post, "/admin/routes", Full(name));
        var before = await host.AdminJson(HttpMethod.Get, "/admin/routes/" + name);

        // A second gateway on the same database (SQLite file or PostgreSQL) stands for this one restarted.
        var settings = host.Services.GetRequiredService<GatewaySettings>();
        var restarted = await TollgateApp.BuildAsync([], s => (s.Urls, s.DataDir, s.MasterKey, s.Postgres, s.Redis) = ("http://127.0.0.1:0", host.DataDir, GatewayHost.MasterKey, settings.Postgres, null));
        await using (restarted)
        {
            await restarted.StartAsync();
            var url = restarted.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            using var request = new HttpRequestMessage(HttpMethod.Get, url + "/admin/routes/" + name);
            request.Headers.Authorization = new("Bearer", GatewayHost.MasterKey);
            using var response = await host.Http.SendAsync(request);
            var after = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal(before.ToString(), after.ToString());
            var route = restarted.Services.GetRequiredService<RouteTable>().Find(name)!;
            Assert.Equal(["429", "503", "timeout"], route.Retry.On);
            Assert.Equal(new RouteCondition(1000, null, true, null, "(?i)translate", "ml", null, null, null, route.Rules[0].When.Header, "high"), route.Rules[0].When);
            Assert.Equal("gold", route.Rules[0].When.Header!["x-tier"]);
            await restarted.StopAsync();
        }
    }

    [PostgresFact]
    public async Task A_route_changed_through_one_replica_applies_on_another_at_its_next_request()
    {
        var (replica, url) = await host.StartReplicaAsync();
        await using (replica)
        {
            var name = Unique("synced");

            async Task<(int Status, string Body)> ReadOnReplica()
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url + "/admin/routes/" + name);
                request.Headers.Authorization = new("Bearer", GatewayHost.MasterKey);
                using var response = await host.Http.SendAsync(request);
                return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
            }

            // The replica subscribes to announcements as it starts, without waiting: give the first one time to arrive.
            await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name, targets = new[] { new { model = "mock/echo" } } });
            var deadline = DateTime.UtcNow.AddSeconds(40);
            var created = await ReadOnReplica();
            while (created.Status != 200 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
                created = await ReadOnReplica();
            }

            Assert.Equal(200, created.Status);

            // Subscribed by now: an edit applies on the replica at its very next request.
            await host.AdminJson(HttpMethod.Patch, "/admin/routes/" + name, new { fallbacks = new[] { "mock/small" } });
            var edited = await ReadOnReplica();
            Assert.Equal(200, edited.Status);
            Assert.Contains("mock/small", edited.Body, StringComparison.Ordinal);
            Assert.Equal(["mock/small"], replica.Services.GetRequiredService<RouteTable>().Find(name)!.Fallbacks);
            await replica.StopAsync();
        }
    }

    private Task<HttpResponseMessage> Post(string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, host.BaseUrl + "/admin/routes") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", GatewayHost.MasterKey);
        return host.Http.SendAsync(request);
    }
}

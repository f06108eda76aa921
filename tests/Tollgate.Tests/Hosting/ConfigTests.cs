using System.Text.Json;
using Tollgate.Gateway.Hosting;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The declarative config file: loaded at start, objects marked managed, reloaded on change.</summary>
public sealed class ConfigTests
{
    [Fact]
    public async Task The_sample_config_loads_its_three_plans_keys_and_limits_as_managed_objects()
    {
        Environment.SetEnvironmentVariable("OPENAI_API_KEY", "sk-sample-openai");
        Environment.SetEnvironmentVariable("ANTHROPIC_API_KEY", "sk-sample-anthropic");
        Environment.SetEnvironmentVariable("TOLLGATE_KEY_CHECKOUT", "tg-sample-checkout-secret");
        Environment.SetEnvironmentVariable("TOLLGATE_KEY_TRIAL", "tg-sample-trial-secret");
        await using var host = new GatewayHost(s => s.ConfigFile = ProcessRunner.RepositoryFile("samples/tollgate.yaml"));
        await host.InitializeAsync();

        var plans = await host.AdminJson(HttpMethod.Get, "/admin/plans");
        Assert.Equal(["enterprise", "free", "pro"], plans.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.All(plans.EnumerateArray(), p => Assert.True(p.GetProperty("managed").GetBoolean()));
        var free = plans.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "free");
        Assert.Equal(0.50m, free.GetProperty("daily_budget").GetDecimal());
        var pro = plans.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "pro");
        Assert.Equal(50, pro.GetProperty("model_daily_requests").GetProperty("openai/gpt-4.1").GetInt32());
        var keys = await host.AdminJson(HttpMethod.Get, "/admin/keys");
        var checkout = keys.EnumerateArray().Single(k => k.GetProperty("name").GetString() == "checkout-service");
        Assert.Equal("pro", checkout.GetProperty("plan").GetString());
        Assert.True(checkout.GetProperty("managed").GetBoolean());

        using var edit = await host.Admin(HttpMethod.Patch, "/admin/plans/free", new { daily_budget = 100 });
        Assert.Equal(409, (int)edit.StatusCode);
        // The trial key may use only the free plan's model, and the policy wants a project.
        using var missingProject = await host.Proxy("/v1/chat/completions", "tg-sample-trial-secret", GatewayHost.Chat("openai/gpt-4o-mini"));
        await ApiErrors.AssertError(missingProject, "/v1/chat/completions", 400, "missing_attribution");
        using var notAllowed = await host.Proxy("/v1/chat/completions", "tg-sample-trial-secret", GatewayHost.Chat("openai/gpt-4.1"), ("X-Project-ID", "trial"));
        await ApiErrors.AssertError(notAllowed, "/v1/chat/completions", 403, "model_not_allowed");
    }

    [Fact]
    public async Task Editing_the_file_applies_at_once_and_removing_an_object_removes_it()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-config").FullName;
        var file = Path.Combine(dir, "tollgate.yaml");
        Environment.SetEnvironmentVariable("TOLLGATE_TEST_CONFIG_KEY", "tg-config-test-key");
        await using var mock = await MockProvider.MockProviderServer.StartAsync();
        string Yaml(string models, bool withRule) => $"""
            providers:
              - name: cfgmock
                kind: openai_compatible
                base_url: {mock.BaseUrl}/v1
            plans:
              - name: tier
                models: [{models}]
            keys:
              - id: key_cfg
                name: cfg
                key_env: TOLLGATE_TEST_CONFIG_KEY
                plan: tier
            """ + (withRule ? """

            quota_rules:
              - id: qr_cfg
                name: cfg-rule
                limit_tokens: 1000000
                cycle: day
                consumers: [key:key_cfg]
            """ : "");
        await File.WriteAllTextAsync(file, Yaml("cfgmock/small", withRule: true));
        await using var host = new GatewayHost(s => s.ConfigFile = file);
        await host.InitializeAsync();

        using (var denied = await host.Proxy("/v1/chat/completions", "tg-config-test-key", GatewayHost.Chat("cfgmock/large")))
        {
            Assert.Equal(403, (int)denied.StatusCode);
        }

        Assert.Equal(1, (await host.AdminJson(HttpMethod.Get, "/admin/quota-rules")).GetArrayLength());
        await File.WriteAllTextAsync(file, Yaml("cfgmock/*", withRule: false));

        var deadline = DateTime.UtcNow.AddSeconds(15);
        int status;
        do
        {
            await Task.Delay(100);
            using var response = await host.Proxy("/v1/chat/completions", "tg-config-test-key", GatewayHost.Chat("cfgmock/large"));
            status = (int)response.StatusCode;
        }
        while (status != 200 && DateTime.UtcNow < deadline);

        Assert.Equal(200, status);
        Assert.Equal(0, (await host.AdminJson(HttpMethod.Get, "/admin/quota-rules")).GetArrayLength());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_route_in_the_file_is_managed_and_goes_away_when_dropped_from_it()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-config").FullName;
        var file = Path.Combine(dir, "tollgate.yaml");
        const string Routes = """
            routes:
              - name: smart
                targets:
                  - model: openai/gpt-4o-mini
                    weight: 3
                  - model: anthropic/claude-haiku-4-5
                rules:
                  - when: {min_input_tokens: 20000, has_images: true, header: {x-tier: gold}, complexity: high}
                    model: openai/gpt-4.1
                downgrade: {at: 0.8, model: openai/gpt-4o-mini}
                fallbacks: [anthropic/claude-haiku-4-5]
                retry: {attempts: 3, on: [429, 503, timeout]}
                drop_unsupported_params: true
              - name: cheap
                targets: [{model: mock/small}]
            """;
        await File.WriteAllTextAsync(file, Routes);
        await using var host = new GatewayHost(s => s.ConfigFile = file);
        await host.InitializeAsync();

        var routes = await host.AdminJson(HttpMethod.Get, "/admin/routes");
        Assert.Equal(["cheap", "smart"], routes.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.All(routes.EnumerateArray(), r => Assert.True(r.GetProperty("managed").GetBoolean()));
        var smart = await host.AdminJson(HttpMethod.Get, "/admin/routes/smart");
        Assert.True(smart.GetProperty("managed").GetBoolean());
        Assert.Equal([3, 1], smart.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("weight").GetInt32()));
        Assert.Equal("gold", smart.GetProperty("rules")[0].GetProperty("when").GetProperty("header").GetProperty("x-tier").GetString());
        Assert.Equal(20000, smart.GetProperty("rules")[0].GetProperty("when").GetProperty("min_input_tokens").GetInt32());
        Assert.Equal(0.8m, smart.GetProperty("downgrade").GetProperty("at").GetDecimal());
        Assert.Equal("""{"attempts":3,"backoff_ms":200,"on":[429,503,"timeout"]}""", smart.GetProperty("retry").GetRawText());
        Assert.Equal("""{"failures":3,"seconds":30}""", smart.GetProperty("cooldown").GetRawText());
        Assert.True(smart.GetProperty("drop_unsupported_params").GetBoolean());
        var cheap = await host.AdminJson(HttpMethod.Get, "/admin/routes/cheap");
        Assert.Equal("""{"attempts":2,"backoff_ms":200,"on":[429,500,502,503,504,"timeout","connect","context_length"]}""", cheap.GetProperty("retry").GetRawText());

        using (var edit = await host.Admin(HttpMethod.Patch, "/admin/routes/smart", new { fallbacks = Array.Empty<string>() }))
        {
            await ApiErrors.AssertError(edit, "/admin/routes/smart", 409, "managed_by_config");
        }

        using (var delete = await host.Admin(HttpMethod.Delete, "/admin/routes/cheap"))
        {
            await ApiErrors.AssertError(delete, "/admin/routes/cheap", 409, "managed_by_config");
        }

        // An admin-made route stays when the file changes; the file's dropped route goes.
        await host.AdminJson(HttpMethod.Post, "/admin/routes", new { name = "mine", targets = new[] { new { model = "mock/echo" } } });
        await File.WriteAllTextAsync(file, Routes[..Routes.IndexOf("  - name: cheap", StringComparison.Ordinal)]);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        int status;
        do
        {
            await Task.Delay(100);
            using var response = await host.Admin(HttpMethod.Get, "/admin/routes/cheap");
            status = (int)response.StatusCode;
        }
        while (status != 404 && DateTime.UtcNow < deadline);

        Assert.Equal(404, status);
        Assert.Equal(["mine", "smart"], (await host.AdminJson(HttpMethod.Get, "/admin/routes")).EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.False((await host.AdminJson(HttpMethod.Get, "/admin/routes/mine")).TryGetProperty("managed", out _));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_cache_policy_in_the_file_is_managed_and_caches_its_keys_calls()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-config").FullName;
        var file = Path.Combine(dir, "tollgate.yaml");
        await File.WriteAllTextAsync(file, """
            cache_policies:
              - id: cp_search
                scope: team
                subject: search
                share: team
                ttl_seconds: 600
                models: [mock/*]
                semantic: {enabled: false, threshold: 0.9}
                prompt_caching: {anthropic_auto: true, openai_cache_key: true}
            """);
        await using var host = new GatewayHost(s => s.ConfigFile = file);
        await host.InitializeAsync();

        var policy = await host.AdminJson(HttpMethod.Get, "/admin/cache-policies/cp_search");
        Assert.Equal("team", policy.GetProperty("scope").GetString());
        Assert.Equal(600, policy.GetProperty("ttl_seconds").GetInt32());
        Assert.Equal(0.9, policy.GetProperty("semantic").GetProperty("threshold").GetDouble());
        Assert.True(policy.GetProperty("prompt_caching").GetProperty("openai_cache_key").GetBoolean());
        Assert.True(policy.GetProperty("exact").GetBoolean());
        using (var edit = await host.Admin(HttpMethod.Patch, "/admin/cache-policies/cp_search", new { ttl_seconds = 60 }))
        {
            await ApiErrors.AssertError(edit, "/admin/cache-policies/cp_search", 409, "managed_by_config");
        }

        var (_, key) = await host.CreateKey(new { name = "searcher", owner = new { team = "search" } });
        using (await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat()))
        {
        }

        using var second = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
        Assert.Equal("hit", second.Headers.GetValues("X-Tollgate-Cache").Single());
        Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [InlineData("routes:\n  - name: a/b\n    targets: [{model: mock/echo}]\n", "route a/b: 'name' may not contain '/'")]
    [InlineData("routes:\n  - name: r\n    targets: [{model: echo}]\n", "route r: 'targets[0].model'")]
    [InlineData("routes:\n  - name: r\n    targets: [{model: mock/echo}]\n    retry: {on: [429, 700]}\n", "route r: 'retry.on[1]'")]
    [InlineData("routes:\n  - name: r\n    targets: [{model: mock/echo}]\n  - name: r\n    targets: [{model: mock/echo}]\n", "route r: listed twice")]
    [InlineData("cache_policies:\n  - id: c1\n    scope: team\n", "cache policy c1: A team policy needs a 'subject'")]
    [InlineData("cache_policies:\n  - id: c1\n    ttl_seconds: 0\n", "cache policy c1: 'ttl_seconds'")]
    public void A_file_with_an_invalid_route_stops_the_start(string yaml, string message)
    {
        var file = Path.Combine(Path.GetTempPath(), "tollgate-bad-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(file, yaml);

        var error = Assert.ThrowsAny<Exception>(() => TollgateApp.BuildAsync([], s =>
        {
            s.ConfigFile = file;
            s.Urls = "http://127.0.0.1:0";
            s.DataDir = Path.Combine(Path.GetTempPath(), "tollgate-bad-" + Guid.NewGuid().ToString("N"));
            (s.Postgres, s.Redis) = (null, null);
        }).GetAwaiter().GetResult());

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        File.Delete(file);
    }

    [Fact]
    public void A_config_that_names_an_unset_secret_stops_the_start()
    {
        var file = Path.Combine(Path.GetTempPath(), "tollgate-bad-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(file, "providers:\n  - name: x\n    kind: openai\n    api_key_env: TOLLGATE_TEST_SURELY_UNSET\n");

        var error = Assert.ThrowsAny<Exception>(() => TollgateApp.BuildAsync([], s =>
        {
            s.ConfigFile = file;
            s.Urls = "http://127.0.0.1:0";
            s.DataDir = Path.Combine(Path.GetTempPath(), "tollgate-bad-" + Guid.NewGuid().ToString("N"));
        }).GetAwaiter().GetResult());

        Assert.Contains("TOLLGATE_TEST_SURELY_UNSET", error.Message, StringComparison.Ordinal);
        File.Delete(file);
    }

    [Fact]
    public void Unknown_yaml_members_are_refused_so_typos_do_not_pass_silently()
    {
        Assert.ThrowsAny<Exception>(() => ConfigLoader.Parse("plans:\n  - name: x\n    daily_budgett: 5\n"));
        Assert.Equal(5m, ConfigLoader.Parse("plans:\n  - name: x\n    daily_budget: 5\n").Plans[0].DailyBudget);
        Assert.ThrowsAny<Exception>(() => ConfigLoader.Parse("routes:\n  - name: x\n    fallback: [mock/echo]\n"));
        Assert.Equal(["429", "timeout"], ConfigLoader.Parse("routes:\n  - name: x\n    retry: {on: [429, timeout]}\n").Routes[0].Retry.On);
    }
}

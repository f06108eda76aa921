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
    }
}

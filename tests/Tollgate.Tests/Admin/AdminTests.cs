using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AdminTests(GatewayHost host)
{
    [Fact]
    public async Task Admin_needs_the_master_key_or_an_admin_key_and_viewers_may_only_read()
    {
        var (_, app) = await host.CreateKey();
        var (_, viewer) = await host.CreateKey(new { name = "viewer", role = "viewer" });
        var (_, admin) = await host.CreateKey(new { name = "admin", role = "admin" });

        using var anonymous = await host.Admin(HttpMethod.Get, "/admin/keys", key: "");
        using var wrong = await host.Admin(HttpMethod.Get, "/admin/keys", key: "tg-wrong");
        using var appKey = await host.Admin(HttpMethod.Get, "/admin/keys", key: app);
        using var viewerRead = await host.Admin(HttpMethod.Get, "/admin/keys", key: viewer);
        using var viewerWrite = await host.Admin(HttpMethod.Post, "/admin/keys", new { name = "x" }, key: viewer);
        using var adminWrite = await host.Admin(HttpMethod.Post, "/admin/keys", new { name = "x" }, key: admin);

        Assert.Equal(401, (int)anonymous.StatusCode);
        Assert.Equal(401, (int)wrong.StatusCode);
        Assert.Equal(403, (int)appKey.StatusCode);
        Assert.Equal(200, (int)viewerRead.StatusCode);
        Assert.Equal(403, (int)viewerWrite.StatusCode);
        Assert.Equal(201, (int)adminWrite.StatusCode);
    }

    [Fact]
    public async Task Provider_api_keys_are_write_only_and_encrypted_at_rest()
    {
        const string secret = "sk-very-secret-provider-key-0001";
        var created = await host.AdminJson(HttpMethod.Post, "/admin/providers", new { name = "openai-eu", kind = "openai", base_url = "https://eu.api.openai.com/v1", api_key = secret });
        var listed = await host.AdminJson(HttpMethod.Get, "/admin/providers");

        Assert.DoesNotContain(secret, created.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed.GetRawText(), StringComparison.Ordinal);
        Assert.True(created.GetProperty("has_api_key").GetBoolean());
        var stored = Assert.Single(host.ReadRows("SELECT api_key_encrypted FROM providers WHERE name = 'openai-eu'")).Text("api_key_encrypted")!;
        Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        Assert.True(Convert.FromBase64String(stored).Length >= secret.Length + 28, "nonce + tag + ciphertext");
    }

    [Theory]
    [InlineData("{\"name\":\"x\",\"kind\":\"nope\"}")]
    [InlineData("{\"name\":\"a/b\",\"kind\":\"openai\"}")]
    [InlineData("{\"name\":\"x\",\"kind\":\"openai_compatible\"}")]
    [InlineData("{\"name\":\"x\",\"kind\":\"openai_compatible\",\"base_url\":\"ftp://x\"}")]
    [InlineData("{\"name\":5}")]
    [InlineData("not json")]
    public async Task Bad_provider_definitions_get_400(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, host.BaseUrl + "/admin/providers") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", GatewayHost.MasterKey);

        using var response = await host.Http.SendAsync(request);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("invalid_request", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_built_in_catalog_prices_current_openai_and_anthropic_models()
    {
        var prices = await host.AdminJson(HttpMethod.Get, "/admin/prices");
        JsonElement Find(string provider, string model) => prices.EnumerateArray().Single(p => p.GetProperty("provider").GetString() == provider && p.GetProperty("model").GetString() == model);

        var mini = Find("openai", "gpt-4o-mini");
        Assert.Equal(0.15m, mini.GetProperty("input_per_mtok").GetDecimal());
        Assert.Equal(0.075m, mini.GetProperty("cached_input_per_mtok").GetDecimal());
        Assert.Equal(0.60m, mini.GetProperty("output_per_mtok").GetDecimal());
        var sonnet = Find("anthropic", "claude-sonnet-4-5");
        Assert.Equal(3.00m, sonnet.GetProperty("input_per_mtok").GetDecimal());
        Assert.Equal(3.75m, sonnet.GetProperty("cache_write_per_mtok").GetDecimal());
        Assert.Equal("builtin", sonnet.GetProperty("source").GetString());
    }

    [Fact]
    public async Task A_price_override_applies_to_the_next_call()
    {
        await host.AdminJson(HttpMethod.Put, "/admin/prices/mock/priced-model", new { input_per_mtok = 10m, output_per_mtok = 30m });
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/priced-model"));

        // 12 × 10 + 8 × 30 per million; cached and cache-write prices default to the input price
        Assert.Equal(0.00036m, Assert.Single(await host.Records(id)).Cost);
        Assert.Equal("0.00036", response.Headers.GetValues("X-Tollgate-Cost").Single());
    }

    [Fact]
    public async Task Usage_groups_by_the_requested_dimensions_with_exact_sums()
    {
        var (id, key) = await host.CreateKey(new { name = "grouped", owner = new { team = "grouping-team" } });
        using (await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("X-Project-ID", "alpha")))
        using (await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("X-Project-ID", "alpha"), ("x-mock-completion-tokens", "2")))
        using (await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/small"), ("X-Project-ID", "beta")))
        {
        }

        var rows = await host.AdminJson(HttpMethod.Get, "/admin/usage?group_by=key,project,model,day");
        var mine = rows.EnumerateArray().Where(r => r.GetProperty("key").GetString() == id).ToList();

        Assert.Equal(2, mine.Count);
        var alpha = mine.Single(r => r.GetProperty("project").GetString() == "alpha");
        Assert.Equal(2, alpha.GetProperty("requests").GetInt32());
        Assert.Equal(24, alpha.GetProperty("input_tokens").GetInt32());
        Assert.Equal(10, alpha.GetProperty("output_tokens").GetInt32());
        Assert.Equal(0.000044m, alpha.GetProperty("cost").GetDecimal());
        Assert.Equal("mock/echo", alpha.GetProperty("model").GetString());
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), alpha.GetProperty("day").GetString());
        var team = (await host.AdminJson(HttpMethod.Get, "/admin/usage?group_by=team")).EnumerateArray().Single(r => r.GetProperty("team").GetString() == "grouping-team");
        Assert.Equal(3, team.GetProperty("requests").GetInt32());
    }

    [Theory]
    [InlineData("/admin/usage?group_by=planet")]
    [InlineData("/admin/usage?from=yesterday")]
    public async Task Bad_usage_queries_get_400(string path)
    {
        using var response = await host.Admin(HttpMethod.Get, path);

        Assert.Equal(400, (int)response.StatusCode);
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        var health = JsonDocument.Parse(await host.Http.GetStringAsync(host.BaseUrl + "/healthz")).RootElement;

        Assert.Equal("ok", health.GetProperty("status").GetString());
    }
}

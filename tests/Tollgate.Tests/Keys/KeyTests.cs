using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

[Collection(GatewayCollection.Name)]
public sealed class KeyTests(GatewayHost host)
{
    [Fact]
    public async Task A_new_key_is_shown_once_and_stored_only_as_a_hash()
    {
        var created = await host.AdminJson(HttpMethod.Post, "/admin/keys", new { name = "billing-bot", owner = new { team = "finance", project = "ledger" } });
        var secret = created.GetProperty("key").GetString()!;
        var id = created.GetProperty("id").GetString()!;

        Assert.StartsWith("tg-", secret, StringComparison.Ordinal);
        Assert.True(secret.Length >= 40);
        var listed = await host.AdminJson(HttpMethod.Get, "/admin/keys/" + id);
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.Equal("finance", listed.GetProperty("owner").GetProperty("team").GetString());
        var needle = System.Text.Encoding.UTF8.GetBytes(secret);
        foreach (var file in new[] { "tollgate.db", "tollgate.db-wal" }.Select(f => Path.Combine(host.DataDir, f)).Where(File.Exists))
        {
            Assert.Equal(-1, (await ReadShared(file)).AsSpan().IndexOf(needle)); // the SQLite files hold no secret
        }

        Assert.Empty(host.ReadRows("SELECT id FROM keys WHERE hash = @s OR prefix = @s OR name = @s", ("@s", secret)));
        var hash = Assert.Single(host.ReadRows("SELECT hash FROM keys WHERE id = @id", ("@id", id))).Text("hash");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret))), hash);
    }

    [Fact]
    public async Task Revoking_a_key_refuses_its_next_request()
    {
        var (id, key) = await host.CreateKey();
        using (var ok = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat()))
        {
            Assert.Equal(200, (int)ok.StatusCode);
        }

        var revoked = await host.AdminJson(HttpMethod.Delete, "/admin/keys/" + id);
        using var refused = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());

        Assert.False(revoked.GetProperty("active").GetBoolean());
        await ApiErrors.AssertError(refused, "/v1/chat/completions", 401, "invalid_api_key");
    }

    [Fact]
    public async Task A_key_expires_at_its_expiry_time()
    {
        var (id, key) = await host.CreateKey(new { name = "short-lived", expires_at = DateTimeOffset.UtcNow.AddSeconds(2) });
        using (var ok = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat()))
        {
            Assert.Equal(200, (int)ok.StatusCode);
        }

        await Task.Delay(2500);
        using var refused = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());

        await ApiErrors.AssertError(refused, "/v1/chat/completions", 401, "invalid_api_key");
        Assert.Single(await host.Records(id));
    }

    [Fact]
    public async Task The_model_allowlist_refuses_other_models_and_shapes_the_model_list()
    {
        var (_, key) = await host.CreateKey(new { name = "small-only", models = new[] { "mock/small" } });

        using var allowed = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/small"));
        using var denied = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/large"));
        using var deniedAnthropic = await host.Proxy("/v1/messages", key, """{"model":"mock/large","max_tokens":5,"messages":[]}""");
        using var list = new HttpRequestMessage(HttpMethod.Get, host.BaseUrl + "/v1/models");
        list.Headers.Authorization = new("Bearer", key);
        using var models = await host.Http.SendAsync(list);

        Assert.Equal(200, (int)allowed.StatusCode);
        await ApiErrors.AssertError(denied, "/v1/chat/completions", 403, "model_not_allowed");
        await ApiErrors.AssertError(deniedAnthropic, "/v1/messages", 403, "model_not_allowed");
        var ids = JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal(["mock/small"], ids);
    }

    [Fact]
    public async Task Provider_wildcards_in_the_allowlist_allow_every_model_of_that_provider()
    {
        var (_, key) = await host.CreateKey(new { name = "mock-any", models = new[] { "mock/*" } });

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/anything-new"));

        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Without_an_allowlist_the_model_list_names_provider_slash_model_for_every_provider_and_routes_by_name()
    {
        var (_, key) = await host.CreateKey();
        using var list = new HttpRequestMessage(HttpMethod.Get, host.BaseUrl + "/v1/models");
        list.Headers.Authorization = new("Bearer", key);

        using var response = await host.Http.SendAsync(list);

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("list", body.GetProperty("object").GetString());
        // Models as provider/model; routes (which other tests of this host may have made) by their name, owned by tollgate.
        Assert.All(body.GetProperty("data").EnumerateArray(), m => Assert.True(
            m.GetProperty("id").GetString()!.Contains('/', StringComparison.Ordinal) || m.GetProperty("owned_by").GetString() == "tollgate"));
    }

    private static async Task<byte[]> ReadShared(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}

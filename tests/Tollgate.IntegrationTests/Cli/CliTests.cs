using System.Diagnostics;
using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The <c>tollgate</c> CLI, run as a process against a running gateway over HTTP, configured by environment variables.</summary>
[Collection(GatewayCollection.Name)]
public sealed class CliTests(GatewayHost host)
{
    [Fact]
    public async Task The_CLI_manages_keys_quota_rules_and_budgets_and_reports_and_exports_through_the_admin_API()
    {
        var team = "cli-" + Guid.NewGuid().ToString("N")[..6];

        // keys create / list
        var created = Json(await Ok("keys", "create", "--name", "clik", "--team", team, "--rpm", "100", "--json"));
        var keyId = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("key").GetString()!;
        Assert.Equal(team, created.GetProperty("owner").GetProperty("team").GetString());
        Assert.Equal(100, created.GetProperty("limits").GetProperty("rpm").GetInt32());
        using (var call = await host.Proxy("/v1/chat/completions", secret, GatewayHost.Chat()))
        {
            Assert.Equal(200, (int)call.StatusCode);
        }

        Assert.Contains(Json(await Ok("keys", "list", "--json")).EnumerateArray(), k => k.GetProperty("id").GetString() == keyId);
        Assert.Contains("clik", await Ok("keys", "list"), StringComparison.Ordinal); // the table

        // quota-rules create / edit / disable / enable / usage / reset / delete
        var rule = Json(await Ok("quota-rules", "create", "--name", team, "--limit-tokens", "1000", "--cycle", "day", "--time-zone", "Asia/Shanghai", "--consumer", "team:" + team, "--json"));
        var ruleId = rule.GetProperty("id").GetString()!;
        Assert.Equal(("day", "Asia/Shanghai"), (rule.GetProperty("cycle").GetString(), rule.GetProperty("time_zone").GetString()));
        Assert.Equal(5000, Json(await Ok("quota-rules", "edit", ruleId, "--limit-tokens", "5000", "--json")).GetProperty("limit_tokens").GetInt32());
        Assert.False(Json(await Ok("quota-rules", "disable", ruleId, "--json")).GetProperty("enabled").GetBoolean());
        Assert.True(Json(await Ok("quota-rules", "enable", ruleId, "--json")).GetProperty("enabled").GetBoolean());
        var used = Json(await Ok("quota-rules", "usage", ruleId, "--json")).EnumerateArray().Single();
        Assert.Equal(("team:" + team, 20), (used.GetProperty("consumer").GetString(), used.GetProperty("used_tokens").GetInt32())); // the call before the rule counts
        await Ok("quota-rules", "reset", ruleId);
        Assert.Equal(0, Json(await Ok("quota-rules", "usage", ruleId, "--json")).EnumerateArray().Single().GetProperty("used_tokens").GetInt32());
        Assert.Contains(ruleId, await Ok("quota-rules", "list", "--json"), StringComparison.Ordinal);
        await Ok("quota-rules", "delete", ruleId);
        Assert.DoesNotContain(ruleId, await Ok("quota-rules", "list", "--json"), StringComparison.Ordinal);

        // budgets create / list / delete
        var budget = Json(await Ok("budgets", "create", "--scope", "team", "--subject", team, "--hard", "5", "--json"));
        var budgetId = budget.GetProperty("id").GetString()!;
        var listed = Json(await Ok("budgets", "list", "--json")).EnumerateArray().Single(b => b.GetProperty("id").GetString() == budgetId);
        Assert.Equal((5m, 0.000028m), (listed.GetProperty("hard").GetDecimal(), listed.GetProperty("spent").GetDecimal()));
        await Ok("budgets", "delete", budgetId);
        Assert.DoesNotContain(budgetId, await Ok("budgets", "list", "--json"), StringComparison.Ordinal);

        // usage and chargeback reports
        var usage = Json(await Ok("usage", "--group-by", "team", "--json")).EnumerateArray().Single(u => u.GetProperty("team").GetString() == team);
        Assert.Equal((1, 0.000028m), (usage.GetProperty("requests").GetInt32(), usage.GetProperty("cost").GetDecimal()));
        Assert.Contains($"{team},1,12,0,0,8,0,0.000028,0.000028,0,0,0,0", (await Ok("reports", "chargeback", "--by", "team", "--csv")).Split('\n'));

        // FOCUS export to files
        var dir = Directory.CreateTempSubdirectory("tollgate-cli").FullName;
        try
        {
            var csvFile = Path.Combine(dir, "focus.csv");
            var parquetFile = Path.Combine(dir, "focus.parquet");
            Assert.Contains("wrote", await Ok("export", "focus", "--format", "csv", "--output", csvFile), StringComparison.Ordinal);
            await Ok("export", "focus", "--format", "parquet", "-o", parquetFile);
            Assert.StartsWith("BilledCost,BillingAccountId,", await File.ReadAllTextAsync(csvFile), StringComparison.Ordinal);
            Assert.Contains(keyId, await File.ReadAllTextAsync(csvFile), StringComparison.Ordinal);
            var parquet = await File.ReadAllBytesAsync(parquetFile);
            Assert.Equal("PAR1"u8.ToArray(), parquet[..4]);
            Assert.Equal("PAR1"u8.ToArray(), parquet[^4..]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        // keys revoke: the key stops working
        Assert.False(Json(await Ok("keys", "revoke", keyId, "--json")).GetProperty("active").GetBoolean());
        using var refused = await host.Proxy("/v1/chat/completions", secret, GatewayHost.Chat());
        Assert.Equal(401, (int)refused.StatusCode);
    }

    [Fact]
    public async Task The_CLI_creates_lists_shows_edits_and_deletes_routes()
    {
        var name = "r" + Guid.NewGuid().ToString("N")[..6];
        var fromFile = name + "-file";
        var file = Path.Combine(Path.GetTempPath(), fromFile + ".json");
        await File.WriteAllTextAsync(file, $$$"""{"name":"{{{fromFile}}}","targets":[{"model":"mock/echo"}],"retry":{"on":[429,"timeout"]}}""");
        try
        {
            var created = Json(await Ok("routes", "create", "--name", name, "--target", "mock/small=3", "--target", "mock/echo", "--fallback", "mock/large", "--json"));
            Assert.Equal([("mock/small", 3), ("mock/echo", 1)], created.GetProperty("targets").EnumerateArray().Select(t => (t.GetProperty("model").GetString(), t.GetProperty("weight").GetInt32())));
            Assert.Equal("mock/large", created.GetProperty("fallbacks")[0].GetString());
            var fromJson = Json(await Ok("routes", "create", "--file", file, "--json"));
            Assert.Equal([(JsonValueKind.Number, "429"), (JsonValueKind.String, "timeout")], fromJson.GetProperty("retry").GetProperty("on").EnumerateArray().Select(e => (e.ValueKind, e.ToString())));

            Assert.Contains(name, await Ok("routes", "list"), StringComparison.Ordinal); // the table
            Assert.Contains(Json(await Ok("routes", "list", "--json")).EnumerateArray(), r => r.GetProperty("name").GetString() == fromFile);
            Assert.Equal(name, Json(await Ok("routes", "get", name, "--json")).GetProperty("name").GetString());
            Assert.Equal("mock/small", Json(await Ok("routes", "edit", name, "--fallback", "mock/small", "--json")).GetProperty("fallbacks")[0].GetString());
            await Ok("routes", "delete", name);
            await Ok("routes", "delete", fromFile);
            Assert.DoesNotContain(name, await Ok("routes", "list", "--json"), StringComparison.Ordinal);

            var (missing, _, missingError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "routes", "get", name);
            var (invalid, _, invalidError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "routes", "create", "--name", name, "--target", "echo");
            var (neither, _, neitherError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "routes", "create");
            Assert.Equal((1, true), (missing, missingError.Contains("not_found", StringComparison.Ordinal)));
            Assert.Equal((1, true), (invalid, invalidError.Contains("targets[0].model", StringComparison.Ordinal)));
            Assert.Equal((1, true), (neither, neitherError.Contains("--file", StringComparison.Ordinal)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_CLI_manages_cache_policies_shows_cache_stats_and_purges_a_namespace()
    {
        var (keyId, secret) = await host.CreateKey();
        var team = "cli-cache-" + Guid.NewGuid().ToString("N")[..6];
        var since = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var file = Path.Combine(Path.GetTempPath(), team + ".json");
        await File.WriteAllTextAsync(file, $$$"""{"scope":"team","subject":"{{{team}}}","share":"team","prompt_caching":{"anthropic_auto":true}}""");
        try
        {
            // create from options, and from a file with options laid over it
            var created = Json(await Ok("cache-policies", "create", "--scope", "key", "--subject", keyId, "--ttl", "60", "--model", "mock/echo", "--model", "mock/small",
                "--no-embeddings", "--openai-cache-key", "--semantic-threshold", "0.9", "--json"));
            var id = created.GetProperty("id").GetString()!;
            Assert.StartsWith("cp_", id, StringComparison.Ordinal);
            var stored = await host.AdminJson(HttpMethod.Get, "/admin/cache-policies/" + id);
            Assert.Equal(("key", keyId, 60, true, false), (stored.GetProperty("scope").GetString(), stored.GetProperty("subject").GetString(),
                stored.GetProperty("ttl_seconds").GetInt32(), stored.GetProperty("exact").GetBoolean(), stored.GetProperty("embeddings").GetBoolean()));
            Assert.Equal(["mock/echo", "mock/small"], stored.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
            Assert.Equal((false, 0.9), (stored.GetProperty("semantic").GetProperty("enabled").GetBoolean(), stored.GetProperty("semantic").GetProperty("threshold").GetDouble()));
            Assert.Equal((false, true), (stored.GetProperty("prompt_caching").GetProperty("anthropic_auto").GetBoolean(), stored.GetProperty("prompt_caching").GetProperty("openai_cache_key").GetBoolean()));

            var fromFile = Json(await Ok("cache-policies", "create", "--file", file, "--no-exact", "--json"));
            var fileId = fromFile.GetProperty("id").GetString()!;
            var fileStored = await host.AdminJson(HttpMethod.Get, "/admin/cache-policies/" + fileId);
            Assert.Equal((team, "team", false, true), (fileStored.GetProperty("subject").GetString(), fileStored.GetProperty("share").GetString(),
                fileStored.GetProperty("exact").GetBoolean(), fileStored.GetProperty("prompt_caching").GetProperty("anthropic_auto").GetBoolean()));

            // listed (table and JSON), shown
            var table = await Ok("cache-policies", "list");
            Assert.Contains(id, table, StringComparison.Ordinal);
            Assert.Contains(fileId, table, StringComparison.Ordinal);
            Assert.Contains(Json(await Ok("cache-policies", "list", "--json")).EnumerateArray(), p => p.GetProperty("id").GetString() == id);
            Assert.Contains(id, await Ok("cache-policies", "get", id), StringComparison.Ordinal);
            Assert.Equal(keyId, Json(await Ok("cache-policies", "get", id, "--json")).GetProperty("subject").GetString());

            // edit changes only what it is given
            Assert.Equal(120, Json(await Ok("cache-policies", "edit", id, "--ttl", "120", "--json")).GetProperty("ttl_seconds").GetInt32());
            var edited = await host.AdminJson(HttpMethod.Get, "/admin/cache-policies/" + id);
            Assert.Equal((120, 2, false, keyId), (edited.GetProperty("ttl_seconds").GetInt32(), edited.GetProperty("models").GetArrayLength(),
                edited.GetProperty("embeddings").GetBoolean(), edited.GetProperty("subject").GetString()));
            await Ok("cache-policies", "edit", fileId, "--exact", "--anthropic-auto", "false");
            var fileEdited = await host.AdminJson(HttpMethod.Get, "/admin/cache-policies/" + fileId);
            Assert.Equal((true, false), (fileEdited.GetProperty("exact").GetBoolean(), fileEdited.GetProperty("prompt_caching").GetProperty("anthropic_auto").GetBoolean()));

            // a miss and a hit under the policy, then the stats
            var chat = $$"""{"model":"mock/echo","max_tokens":8,"messages":[{"role":"user","content":"Say {{team}}"}]}""";
            Assert.Equal("miss", await CacheHeader(secret, chat));
            Assert.Equal("hit", await CacheHeader(secret, chat));
            await host.Records(keyId); // the ledger written
            var stats = Json(await Ok("cache", "stats", "--from", since, "--json"));
            Assert.Equal(1, stats.GetProperty("exact_hits").GetInt32());
            Assert.True(stats.GetProperty("misses").GetInt32() >= 1, stats.ToString());
            Assert.True(stats.GetProperty("requests").GetInt32() >= 2, stats.ToString());
            Assert.True(stats.GetProperty("cache_savings").GetDecimal() > 0, stats.ToString());
            Assert.True(stats.GetProperty("entries").GetInt32() >= 1 && stats.GetProperty("bytes").GetInt64() > 0, stats.ToString());
            var statsTable = await Ok("cache", "stats", "--from", since);
            Assert.Contains("exact hits", statsTable, StringComparison.Ordinal);
            Assert.Contains("%", statsTable, StringComparison.Ordinal);

            // purge: a namespace must be named, or --all given
            var (bare, _, bareError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "cache", "purge");
            var (both, _, bothError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "cache", "purge", "--all", "--scope", "key", "--subject", keyId);
            Assert.Equal((1, true), (bare, bareError.Contains("--all", StringComparison.Ordinal)));
            Assert.Equal((1, true), (both, bothError.Contains("not both", StringComparison.Ordinal)));
            Assert.Equal("hit", await CacheHeader(secret, chat)); // nothing purged by the refusals
            Assert.Equal(1, Json(await Ok("cache", "purge", "--scope", "key", "--subject", keyId, "--json")).GetProperty("purged").GetInt32());
            Assert.Equal("miss", await CacheHeader(secret, chat)); // the entry is gone
            Assert.Contains("purged 0 entries from team:" + team, await Ok("cache", "purge", "--scope", "team", "--subject", team), StringComparison.Ordinal);

            // the API's refusals come through
            var (invalid, _, invalidError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "cache-policies", "edit", id, "--ttl", "0");
            var (noScope, _, noScopeError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "cache-policies", "create", "--ttl", "60");
            Assert.Equal((1, true), (invalid, invalidError.Contains("ttl_seconds", StringComparison.Ordinal)));
            Assert.Equal((1, true), (noScope, noScopeError.Contains("--scope", StringComparison.Ordinal)));

            // delete
            Assert.Contains("deleted", await Ok("cache-policies", "delete", id), StringComparison.Ordinal);
            await Ok("cache-policies", "delete", fileId);
            using var gone = await host.Admin(HttpMethod.Get, "/admin/cache-policies/" + id);
            Assert.Equal(404, (int)gone.StatusCode);
            Assert.DoesNotContain(id, await Ok("cache-policies", "list", "--json"), StringComparison.Ordinal);
            Assert.Null(await CacheHeader(secret, chat)); // no policy covers the key any more
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_CLI_reports_API_errors_and_an_unreachable_gateway_with_distinct_exit_codes()
    {
        var (missing, _, missingError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "quota-rules", "reset", "qr_missing");
        var (forbidden, _, forbiddenError) = await Run(host.BaseUrl, "tg-not-admin", "keys", "list");
        var (unreachable, _, unreachableError) = await Run("http://127.0.0.1:" + ProcessRunner.FreePort(), GatewayHost.MasterKey, "keys", "list");
        var (usage, _, usageError) = await Run(host.BaseUrl, GatewayHost.MasterKey, "budgets", "create", "--subject", "x");
        var (help, helpText, _) = await Run(host.BaseUrl, GatewayHost.MasterKey, "keys", "list", "--help");

        Assert.Equal((1, true), (missing, missingError.Contains("not_found", StringComparison.Ordinal)));
        Assert.Equal((1, true), (forbidden, forbiddenError.Contains("invalid_api_key", StringComparison.Ordinal)));
        Assert.Equal((2, true), (unreachable, unreachableError.Contains("cannot reach the gateway", StringComparison.Ordinal)));
        Assert.Equal((1, true), (usage, usageError.Contains("--scope", StringComparison.Ordinal))); // a required option
        Assert.Equal((0, false), (help, helpText.Contains(GatewayHost.MasterKey, StringComparison.Ordinal))); // help shows no secret
    }

    private async Task<string> Ok(params string[] args)
    {
        var (code, output, error) = await Run(host.BaseUrl, GatewayHost.MasterKey, args);
        Assert.True(code == 0, $"tollgate {string.Join(' ', args)} exited {code}: {error}{output}");
        return output;
    }

    private async Task<string?> CacheHeader(string secret, string body)
    {
        using var response = await host.Proxy("/v1/chat/completions", secret, body);
        Assert.Equal(200, (int)response.StatusCode);
        return response.Headers.TryGetValues("X-Tollgate-Cache", out var values) ? values.Single() : null;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    /// <summary>Runs the built CLI with TOLLGATE_URL and TOLLGATE_ADMIN_KEY set, as a user's shell would.</summary>
    private static async Task<(int Code, string Output, string Error)> Run(string url, string key, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(ProcessRunner.BuiltAssembly("src/Tollgate.Cli", "tollgate.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["TOLLGATE_URL"] = url;
        info.Environment["TOLLGATE_ADMIN_KEY"] = key;
        info.Environment.Remove("TOLLGATE_MASTER_KEY");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}

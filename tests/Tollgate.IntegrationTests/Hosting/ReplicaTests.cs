using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Metering;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Two gateway processes sharing PostgreSQL and Redis, with load split between them.</summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    private const string Master = "tg-replica-master";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly List<ProcessRunner> _processes = [];
    private string? _database;
    private string _a = "";
    private string _b = "";

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync();
        if (_database is null)
        {
            return;
        }

        var mockPort = ProcessRunner.FreePort();
        var mock = ProcessRunner.Start("tools/MockProvider", "Tollgate.MockProvider.dll", ["--urls", $"http://127.0.0.1:{mockPort}", "--latency-ms", "20"]);
        _processes.Add(mock);
        var env = new Dictionary<string, string>
        {
            ["TOLLGATE_MASTER_KEY"] = Master,
            ["TOLLGATE_POSTGRES"] = TestPostgres.ConnectionString(_database),
            ["TOLLGATE_REDIS"] = TestRedis.Address,
            ["TOLLGATE_REDIS_PREFIX"] = "replicas:" + Guid.NewGuid().ToString("N") + ":",
        };
        foreach (var replica in new[] { "a", "b" })
        {
            var url = $"http://127.0.0.1:{ProcessRunner.FreePort()}";
            var process = ProcessRunner.Start("src/Tollgate.Gateway", "Tollgate.Gateway.dll", ["--urls", url, "--data-dir", Path.Combine(Path.GetTempPath(), "tollgate-replica-" + Guid.NewGuid().ToString("N"))], env);
            _processes.Add(process);
            await ProcessRunner.WaitForHttp(_http, url + "/healthz", process);
            (_a, _b) = replica == "a" ? (url, _b) : (_a, url);
        }

        await ProcessRunner.WaitForHttp(_http, $"http://127.0.0.1:{mockPort}/_mock/stats", mock);
        await Admin(_a, HttpMethod.Post, "/admin/providers", new { name = "mock", kind = "openai_compatible", base_url = $"http://127.0.0.1:{mockPort}/v1" });
        await Admin(_a, HttpMethod.Put, "/admin/prices/mock/*", new { input_per_mtok = 1.00m, output_per_mtok = 2.00m });
    }

    public async Task DisposeAsync()
    {
        _processes.ForEach(p => p.Dispose());
        _http.Dispose();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [PostgresFact]
    public async Task A_hard_budget_holds_across_two_replicas_when_the_provider_counts_more_than_the_tokenizer()
    {
        // Realistic prompts counted 1.4 × o200k plus a few tokens per message: 300 parallel calls split between the
        // replicas, then calls one by one until refused; accepted = what fits, spend never past the limit.
        var scenario = BudgetScenario.For(realistic: true, factor: 1.4, perMessage: 4, perReply: 3);
        var key = await Admin(_a, HttpMethod.Post, "/admin/keys", new { name = "shared", budget = new { period = "day", hard = scenario.Limit, time_zone = "UTC" } });
        var secret = key.GetProperty("key").GetString()!;

        var accepted = await BudgetScenario.RunAsync(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, (i % 2 == 0 ? _a : _b) + "/v1/chat/completions") { Content = new StringContent(scenario.Body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            foreach (var (name, value) in scenario.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var response = await _http.SendAsync(request);
            return ((int)response.StatusCode, response.Headers.TryGetValues("X-Tollgate-Error-Code", out var code) ? code.Single() : null);
        });

        Assert.Equal(BudgetScenario.Fits, accepted);
        // Each replica writes its own records; through B, A's become visible once A's writer has committed them.
        JsonElement usage = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            usage = (await Admin(_b, HttpMethod.Get, "/admin/usage?group_by=key")).EnumerateArray().FirstOrDefault(r => r.GetProperty("key").GetString() == key.GetProperty("id").GetString());
            if (usage.ValueKind != JsonValueKind.Undefined && usage.GetProperty("requests").GetInt32() == accepted)
            {
                break;
            }
        }

        Assert.Equal(accepted, usage.GetProperty("requests").GetInt32());
        Assert.Equal(accepted * scenario.CallCost, usage.GetProperty("cost").GetDecimal());
        Assert.True(usage.GetProperty("cost").GetDecimal() <= scenario.Limit);
    }

    [PostgresFact]
    public async Task Changes_made_through_one_replica_apply_on_the_other_once_announced()
    {
        // Revocation.
        var key = await Admin(_a, HttpMethod.Post, "/admin/keys", new { name = "revoked-on-a" });
        var secret = key.GetProperty("key").GetString()!;
        Assert.Equal(200, await Call(_b, secret, "mock/echo"));
        await Admin(_a, HttpMethod.Delete, "/admin/keys/" + key.GetProperty("id").GetString());
        await Eventually(401, () => Call(_b, secret, "mock/echo"));

        // Quota rule edit.
        var quotaKey = await Admin(_a, HttpMethod.Post, "/admin/keys", new { name = "quota" });
        var quotaSecret = quotaKey.GetProperty("key").GetString()!;
        var rule = await Admin(_a, HttpMethod.Post, "/admin/quota-rules", new { name = "r", limit_tokens = 1_000_000, cycle = "day", consumers = new[] { "key:" + quotaKey.GetProperty("id").GetString() } });
        Assert.Equal(200, await Call(_b, quotaSecret, "mock/echo"));
        await Admin(_a, HttpMethod.Patch, "/admin/quota-rules/" + rule.GetProperty("id").GetString(), new { limit_tokens = 1 });
        await Eventually(429, () => Call(_b, quotaSecret, "mock/echo"));

        // Plan change.
        await Admin(_a, HttpMethod.Post, "/admin/plans", new { name = "replicated", models = new[] { "mock/small" } });
        var planKey = (await Admin(_a, HttpMethod.Post, "/admin/keys", new { name = "planned", plan = "replicated" })).GetProperty("key").GetString()!;
        Assert.Equal(403, await Call(_b, planKey, "mock/large"));
        await Admin(_a, HttpMethod.Patch, "/admin/plans/replicated", new { models = new[] { "mock/*" } });
        await Eventually(200, () => Call(_b, planKey, "mock/large"));
    }

    /// <summary>
    /// The announcement of a change travels through Redis pub/sub, which the admin call does not wait for: the other
    /// replica applies it at its first request after the message arrives (within milliseconds; a loaded CI machine may
    /// take longer), so the check allows two seconds.
    /// </summary>
    private static async Task Eventually(int expected, Func<Task<int>> call)
    {
        var status = await call();
        for (var deadline = DateTime.UtcNow.AddSeconds(2); status != expected && DateTime.UtcNow < deadline; status = await call())
        {
            await Task.Delay(50);
        }

        Assert.Equal(expected, status);
    }

    private async Task<int> Call(string replica, string key, string model)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, replica + "/v1/chat/completions") { Content = new StringContent(GatewayHost.Chat(model), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(request);
        return (int)response.StatusCode;
    }

    private async Task<JsonElement> Admin(string replica, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, replica + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Master);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} → {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}

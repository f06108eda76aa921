using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The gateway and the mock provider as separate processes, talking real HTTP, stopped the way production stops them.</summary>
public sealed class ProcessTests : IDisposable
{
    private const string Master = "tg-process-master";
    private readonly string _dataDir = Directory.CreateTempSubdirectory("tollgate-process").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>On SQLite, and in test.sh's PostgreSQL + Redis run on PostgreSQL (binary COPY) and Redis.</summary>
    [Fact]
    public async Task SIGTERM_during_load_loses_no_usage_record()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var env = new Dictionary<string, string> { ["TOLLGATE_MASTER_KEY"] = Master };
        if (database is not null)
        {
            env["TOLLGATE_POSTGRES"] = TestPostgres.ConnectionString(database);
            env["TOLLGATE_REDIS"] = TestRedis.Address;
            env["TOLLGATE_REDIS_PREFIX"] = "sigterm:" + Guid.NewGuid().ToString("N") + ":";
        }

        try
        {
            await SigtermLosesNothing(env, database);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    private async Task SigtermLosesNothing(Dictionary<string, string> env, string? database)
    {
        var mockPort = ProcessRunner.FreePort();
        using var mock = ProcessRunner.Start("tools/MockProvider", "Tollgate.MockProvider.dll", ["--urls", $"http://127.0.0.1:{mockPort}", "--latency-ms", "400"]);
        var gatewayPort = ProcessRunner.FreePort();
        var gatewayUrl = $"http://127.0.0.1:{gatewayPort}";
        using var gateway = ProcessRunner.Start("src/Tollgate.Gateway", "Tollgate.Gateway.dll", ["--urls", gatewayUrl, "--data-dir", _dataDir], env);
        await ProcessRunner.WaitForHttp(_http, $"http://127.0.0.1:{mockPort}/_mock/stats", mock);
        await ProcessRunner.WaitForHttp(_http, gatewayUrl + "/healthz", gateway);
        await Admin(gatewayUrl + "/admin/providers", new { name = "mock", kind = "openai_compatible", base_url = $"http://127.0.0.1:{mockPort}/v1" });
        var key = (await Admin(gatewayUrl + "/admin/keys", new { name = "load" })).GetProperty("key").GetString()!;

        var calls = Enumerable.Range(0, 150).Select(async i =>
        {
            await Task.Delay(i * 4);
            using var request = new HttpRequestMessage(HttpMethod.Post, gatewayUrl + "/v1/chat/completions")
            {
                Content = new StringContent(GatewayHost.Chat(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            try
            {
                using var response = await _http.SendAsync(request);
                await response.Content.ReadAsStringAsync();
                return (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                return 0; // refused: the gateway had stopped listening
            }
        }).ToList();
        await Task.Delay(300);
        gateway.Terminate();
        var statuses = await Task.WhenAll(calls);
        Assert.Equal(0, await gateway.WaitForExit(TimeSpan.FromSeconds(60)));

        var reachedProvider = (await _http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{mockPort}/_mock/stats")).GetProperty("requests").GetInt32();
        using System.Data.Common.DbConnection connection = database is null
            ? new SqliteConnection($"Data Source={Path.Combine(_dataDir, "tollgate.db")};Pooling=False")
            : new Npgsql.NpgsqlConnection(TestPostgres.ConnectionString(database));
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*), SUM(CASE WHEN status = 200 THEN 1 ELSE 0 END) FROM usage";
        using var reader = count.ExecuteReader();
        reader.Read();
        var served = statuses.Count(s => s == 200);

        Assert.True(served > 0, "some calls were in flight when SIGTERM arrived:\n" + gateway.Output);
        Assert.Equal(reachedProvider, Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(served, Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("Ledger drained", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_mode_starts_offline_with_a_mock_provider_and_prints_a_working_demo_key()
    {
        var port = ProcessRunner.FreePort();
        var url = $"http://127.0.0.1:{port}";
        using var gateway = ProcessRunner.Start("src/Tollgate.Gateway", "Tollgate.Gateway.dll", ["--demo", "--urls", url, "--data-dir", _dataDir]);
        await ProcessRunner.WaitForHttp(_http, url + "/healthz", gateway);
        var output = gateway.Output;
        var demoKey = output[(output.IndexOf("demo key: ", StringComparison.Ordinal) + 10)..].Split('\n')[0].Trim();
        var masterKey = output[(output.IndexOf("master key (shown once, stored hashed): ", StringComparison.Ordinal) + 40)..].Split('\n')[0].Trim();

        using var request = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new StringContent(GatewayHost.Chat(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", demoKey);
        using var response = await _http.SendAsync(request);
        using var admin = new HttpRequestMessage(HttpMethod.Get, url + "/admin/keys");
        admin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", masterKey);
        using var keys = await _http.SendAsync(admin);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("0.000028", response.Headers.GetValues("X-Tollgate-Cost").Single());
        Assert.StartsWith("tg-", demoKey, StringComparison.Ordinal);
        Assert.Equal(200, (int)keys.StatusCode);
        Assert.DoesNotContain(demoKey, await keys.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<JsonElement> Admin(string url, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Master);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose()
    {
        _http.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }
}

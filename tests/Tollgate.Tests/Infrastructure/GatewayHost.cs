using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;
using Tollgate.MockProvider;

namespace Tollgate.Tests.Infrastructure;

/// <summary>
/// A real gateway listening on a loopback port (Kestrel, in this process) in front of a real mock provider
/// listening on another port. The provider <c>mock</c> is registered through the admin API, with an upstream key,
/// and priced at 1.00 / 0.10 / 1.25 / 2.00 USD per million input / cached / cache-write / output tokens.
/// </summary>
public sealed class GatewayHost : IAsyncLifetime, IAsyncDisposable
{
    public const string MasterKey = "tg-test-master-key";
    public const string UpstreamKey = "sk-upstream-secret-123";

    private readonly Action<GatewaySettings>? _configure;
    private readonly TimeProvider? _time;
    private WebApplication? _app;

    public GatewayHost()
        : this(null)
    {
    }

    internal GatewayHost(Action<GatewaySettings>? configure, TimeProvider? time = null)
    {
        _configure = configure;
        _time = time;
    }

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "tollgate-test-" + Guid.NewGuid().ToString("N"));

    public string BaseUrl { get; private set; } = "";

    internal MockProviderServer Mock { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public IServiceProvider Services => _app!.Services;

    /// <summary>The PostgreSQL database of this host when the suite runs on PostgreSQL + Redis (TOLLGATE_TEST_POSTGRES).</summary>
    private string? _database;

    public async Task InitializeAsync()
    {
        Mock = await MockProviderServer.StartAsync();
        _database = await TestPostgres.CreateDatabaseAsync();
        _app = await TollgateApp.BuildAsync([], s =>
        {
            s.Urls = "http://127.0.0.1:0";
            s.DataDir = DataDir;
            s.MasterKey = MasterKey;
            s.MaxBodyBytes = 256 * 1024;
            // Most tests check other behaviour with the mock reporting exactly what the gateway estimates, so they reserve
            // the estimate as it is; ReservationTests run hosts with the production margin and calibration.
            s.ReservationMargin = 1m;
            s.CalibrateReservations = false;
            if (_database is not null)
            {
                s.Postgres = TestPostgres.ConnectionString(_database);
                s.Redis = TestRedis.Address;
                s.RedisPrefix = "test:" + Guid.NewGuid().ToString("N") + ":";
            }

            _configure?.Invoke(s);
        }, services =>
        {
            if (_time is not null)
            {
                services.AddSingleton(_time);
            }
        });
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        (await Admin(HttpMethod.Post, "/admin/providers", new { name = "mock", kind = "openai_compatible", base_url = Mock.BaseUrl + "/v1", api_key = UpstreamKey })).EnsureSuccessStatusCode();
        (await Admin(HttpMethod.Put, "/admin/prices/mock/*", new { input_per_mtok = 1.00m, cached_input_per_mtok = 0.10m, cache_write_per_mtok = 1.25m, output_per_mtok = 2.00m })).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await Mock.DisposeAsync();
        Http.Dispose();
        SqliteConnection.ClearAllPools();
        await TestPostgres.DropDatabaseAsync(_database);
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    /// <summary>A second gateway, started, on this one's database, Redis and Redis prefix (a replica); the caller stops and disposes it.</summary>
    internal async Task<(WebApplication App, string Url)> StartReplicaAsync()
    {
        var settings = Services.GetRequiredService<GatewaySettings>();
        var replica = await TollgateApp.BuildAsync([], s => (s.Urls, s.DataDir, s.MasterKey, s.Postgres, s.Redis, s.RedisPrefix) =
            ("http://127.0.0.1:0", DataDir, MasterKey, settings.Postgres, settings.Redis, settings.RedisPrefix));
        await replica.StartAsync();
        return (replica, replica.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/'));
    }

    public Task<HttpResponseMessage> Admin(HttpMethod method, string path, object? body = null, string key = MasterKey)
    {
        var request = new HttpRequestMessage(method, BaseUrl + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return Http.SendAsync(request);
    }

    public async Task<JsonElement> AdminJson(HttpMethod method, string path, object? body = null, string key = MasterKey)
    {
        using var response = await Admin(method, path, body, key);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} → {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Creates a virtual key; returns its id and secret.</summary>
    public async Task<(string Id, string Secret)> CreateKey(object? extra = null)
    {
        var body = extra ?? new { name = "test-" + Guid.NewGuid().ToString("N")[..8] };
        var created = await AdminJson(HttpMethod.Post, "/admin/keys", body);
        return (created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!);
    }

    /// <summary>Sends a JSON body to a proxy path with a key; extra headers go along (x-mock-* steer the mock).</summary>
    public Task<HttpResponseMessage> Proxy(string path, string? key, string json, params (string Name, string Value)[] headers) =>
        Proxy(path, key, Encoding.UTF8.GetBytes(json), headers);

    public Task<HttpResponseMessage> Proxy(string path, string? key, byte[] body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, BaseUrl + path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>The ledger rows of one key, after every record already handed to the writer is written.</summary>
    public async Task<IReadOnlyList<LedgerRow>> Records(string keyId)
    {
        await Services.GetRequiredService<LedgerWriter>().FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return ReadRows("SELECT * FROM usage WHERE key_id = @k ORDER BY ts, id", ("@k", keyId));
    }

    /// <summary>Waits until a key has <paramref name="count"/> records (for calls whose handling ends after the client saw the response).</summary>
    public async Task<IReadOnlyList<LedgerRow>> WaitForRecords(string keyId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var rows = await Records(keyId);
            if (rows.Count >= count || DateTime.UtcNow > deadline)
            {
                return rows;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Rows straight from the gateway's database (SQLite or PostgreSQL alike).</summary>
    public IReadOnlyList<LedgerRow> ReadRows(string sql, params (string, object?)[] parameters)
    {
        using var connection = Services.GetRequiredService<Database>().Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        Database.AddParameters(command, parameters);

        using var reader = command.ExecuteReader();
        var rows = new List<LedgerRow>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(new LedgerRow(row));
        }

        return rows;
    }

    /// <summary>
    /// A chat request the gateway estimates at exactly the mock's default 12 input tokens (6 for its strings with
    /// <c>mock/echo</c>, <c>mock/small</c> or <c>mock/large</c>, 3 for the message, 3 for the reply), so with
    /// <c>max_tokens</c> 8 a default call reserves exactly what it costs.
    /// </summary>
    public static string Chat(string model = "mock/echo", bool stream = false, string extra = "") =>
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Hi"}]{{extra}}}""";
}

/// <summary>One ledger row, with typed accessors for the columns tests check.</summary>
public sealed class LedgerRow(IReadOnlyDictionary<string, object?> values)
{
    public object? this[string column] => values[column];

    public long Long(string column) => Convert.ToInt64(values[column], System.Globalization.CultureInfo.InvariantCulture);

    public string? Text(string column) => values[column] as string;

    public decimal Cost => Money.FromE10(Long("cost_e10"));

    public bool Estimated => Long("estimated") == 1;
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayHost>
{
    public const string Name = "gateway";
}

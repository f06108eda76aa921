using Npgsql;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>PostgreSQL becomes unreachable mid-load: calls keep being served, records spool locally and are replayed.</summary>
public sealed class PostgresOutageTests
{
    [PostgresFact]
    public async Task Records_equal_calls_served_when_postgres_goes_away_mid_load_and_comes_back()
    {
        var target = new NpgsqlConnectionStringBuilder(TestPostgres.Server);
        using var proxy = new TcpProxy(target.Host ?? "127.0.0.1", target.Port);
        proxy.Start();
        await using var host = new GatewayHost(s =>
        {
            var viaProxy = new NpgsqlConnectionStringBuilder(s.Postgres) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 2, CommandTimeout = 5 };
            s.Postgres = viaProxy.ConnectionString;
        });
        await host.InitializeAsync();
        var (keyId, key) = await host.CreateKey();

        var served = 0;
        var calls = Enumerable.Range(0, 8).Select(async worker =>
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("x-mock-latency-ms", "20"));
                if ((int)response.StatusCode == 200)
                {
                    Interlocked.Increment(ref served);
                }

                await Task.Delay(15);
            }
        }).ToList();
        await Task.Delay(400);
        proxy.Cut(); // PostgreSQL is gone for a while, mid-load
        await Task.Delay(2000);
        var spoolWhileDown = File.Exists(Path.Combine(host.DataDir, "ledger-spool.jsonl"));
        proxy.Start();
        await Task.WhenAll(calls);

        IReadOnlyList<LedgerRow> records = [];
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            try
            {
                records = await host.Records(keyId);
                if (records.Count >= served)
                {
                    break;
                }
            }
            catch (NpgsqlException)
            {
                // The pool may still hand out a connection the cut broke.
            }
        }

        Assert.Equal(160, served); // the proxy path never needed the database
        Assert.True(spoolWhileDown, "records were spooled while PostgreSQL was unreachable");
        Assert.Equal(served, records.Count);
        Assert.Equal(served, records.Select(r => r.Text("id")).Distinct().Count());
        Assert.False(File.Exists(Path.Combine(host.DataDir, "ledger-spool.jsonl")));
    }
}

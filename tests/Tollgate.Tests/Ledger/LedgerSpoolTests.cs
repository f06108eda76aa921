using Tollgate.Gateway.Ledger;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Records spooled to disk while the database is down come back with every field, the response cache's included.</summary>
public sealed class LedgerSpoolTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "tollgate-spool-" + Guid.NewGuid().ToString("N") + ".jsonl");

    [Fact]
    public async Task A_spooled_record_keeps_its_cache_hit_and_savings_into_the_ledger()
    {
        var spool = new LedgerSpool(_path);
        var at = DateTimeOffset.UnixEpoch.AddHours(5);
        UsageRecord Record(string id, string? hit, decimal cacheSavings, decimal providerSavings) => new()
        {
            Id = id, Timestamp = at, Operation = "chat", Provider = "mock", RequestedModel = "mock/echo",
            CacheHit = hit, CacheSavings = cacheSavings, ProviderCacheSavings = providerSavings, Status = 200,
        };
        spool.Append([Record("exact", "exact", 0.0000244m, 0m), Record("semantic", "semantic", 0.5m, 0m), Record("provider", null, 0m, 0.0000032m)]);

        var replayed = new List<UsageRecord>();
        Assert.Equal(3, spool.Replay(replayed.AddRange, batchSize: 2));

        Assert.Equal([("exact", "exact", 0.0000244m, 0m), ("semantic", "semantic", 0.5m, 0m), ("provider", null, 0m, 0.0000032m)],
            replayed.Select(r => (r.Id, r.CacheHit, r.CacheSavings, r.ProviderCacheSavings)));
        Assert.False(File.Exists(_path));

        // Through the sink, on the suite's engine: the columns hold what the spool gave back.
        await using var test = await TestDatabase.CreateAsync();
        test.Db.Migrate();
        spool.Append(replayed);
        using (var sink = test.Db.OpenLedgerSink())
        {
            spool.Replay(sink.Write, batchSize: 10);
        }

        Assert.Equal(["exact exact 244000 0", "provider null 0 32000", "semantic semantic 5000000000 0"],
            test.Rows("SELECT id, cache_hit, cache_savings_e10, provider_cache_savings_e10 FROM usage ORDER BY id"));
    }

    [Fact]
    public void A_line_spooled_before_the_response_cache_reads_as_no_hit_and_no_provider_savings()
    {
        File.WriteAllText(_path, """{"id":"old","timestamp":"2025-01-01T00:00:00+00:00","operation":"chat","provider":"mock","requested_model":"mock/echo","cache_savings":0.5,"status":200}""" + "\n");
        var replayed = new List<UsageRecord>();

        new LedgerSpool(_path).Replay(replayed.AddRange, batchSize: 10);

        var record = Assert.Single(replayed);
        Assert.Equal(("old", null, 0.5m, 0m), (record.Id, record.CacheHit, record.CacheSavings, record.ProviderCacheSavings));
    }

    public void Dispose() => File.Delete(_path);
}

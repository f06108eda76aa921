using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The roll-up tables as the ledger sinks and the migration keep them, on the engine the suite runs on.</summary>
public sealed class RollupStorageTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2025-03-30T21:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Each_rollup_holds_the_records_summed_per_bucket_and_dimension_with_missing_ones_as_empty_strings()
    {
        await using var test = await TestDatabase.CreateAsync();
        test.Db.Migrate();
        var records = LedgerSample.Records(600, Start, TimeSpan.FromHours(30), seed: 3);
        using (var sink = test.Db.OpenLedgerSink())
        {
            foreach (var batch in records.Chunk(150))
            {
                sink.Write(batch);
            }
        }

        AssertRolledUp(test, records);
    }

    [Fact]
    public async Task A_record_replayed_from_the_spool_or_twice_in_a_batch_is_rolled_up_once()
    {
        await using var test = await TestDatabase.CreateAsync();
        test.Db.Migrate();
        var records = LedgerSample.Records(40, Start, TimeSpan.FromHours(3), seed: 5);
        var spool = new LedgerSpool(Path.Combine(Path.GetTempPath(), "tollgate-spool-" + Guid.NewGuid().ToString("N") + ".jsonl"));
        using (var sink = test.Db.OpenLedgerSink())
        {
            sink.Write(records[..25]);
            // The writer spooled records it had in fact written (the commit's answer was lost), then more.
            spool.Append(records[20..]);
            Assert.Equal(20, spool.Replay(sink.Write, batchSize: 7));
            sink.Write([records[0], records[39], records[39]]);
        }

        Assert.Equal(40L, Convert.ToInt64(test.Execute("SELECT COUNT(*) FROM usage"), System.Globalization.CultureInfo.InvariantCulture));
        AssertRolledUp(test, records);
    }

    [Fact]
    public async Task A_ledger_from_before_rollups_is_rolled_up_once_at_its_first_start_and_kept_up_after()
    {
        await using var test = await TestDatabase.CreateAsync();
        test.Db.Migrate();
        var old = LedgerSample.Records(300, Start, TimeSpan.FromHours(50), seed: 11);
        using (var sink = test.Db.OpenLedgerSink())
        {
            sink.Write(old);
        }

        // The ledger as a release without roll-ups left it.
        test.Execute("DROP TABLE usage_hourly; DROP TABLE usage_daily");
        test.Db.Migrate();
        test.Db.Migrate(); // a second start adds nothing
        var later = LedgerSample.Records(50, Start.AddHours(49), TimeSpan.FromHours(5), seed: 12);
        using (var sink = test.Db.OpenLedgerSink())
        {
            sink.Write(later);
        }

        AssertRolledUp(test, [.. old, .. later]);
    }

    [Fact]
    public async Task Rollups_from_before_the_cache_figures_gain_them_filled_from_the_records_and_kept_up_after()
    {
        await using var test = await TestDatabase.CreateAsync();
        test.Db.Migrate();
        var old = LedgerSample.Records(300, Start, TimeSpan.FromHours(50), seed: 13);
        Assert.Contains(old, r => r.CacheHit == "semantic");
        Assert.Contains(old, r => r.Attempt > 1);
        using (var sink = test.Db.OpenLedgerSink())
        {
            sink.Write(old);
        }

        // The roll-ups as the release before the response cache left them: its figures only.
        foreach (var rollup in UsageRollup.All)
        {
            foreach (var column in new[] { "cache_hits", "semantic_hits", "provider_cache_savings_e10", "later_attempts" })
            {
                test.Execute($"ALTER TABLE {rollup.Table} DROP COLUMN {column}");
            }
        }

        test.Db.Migrate();
        test.Db.Migrate(); // a second start adds nothing
        var later = LedgerSample.Records(50, Start.AddHours(49), TimeSpan.FromHours(5), seed: 14);
        using (var sink = test.Db.OpenLedgerSink())
        {
            sink.Write(later);
        }

        AssertRolledUp(test, [.. old, .. later]);
    }

    /// <summary>Every roll-up holds exactly the sums of <paramref name="records"/> per bucket.</summary>
    private static void AssertRolledUp(TestDatabase test, IReadOnlyList<UsageRecord> records)
    {
        foreach (var rollup in UsageRollup.All)
        {
            Assert.Equal(Buckets(records, rollup.Unit), Rows(test, rollup));
        }
    }

    private static List<string> Buckets(IEnumerable<UsageRecord> records, long unit) =>
        [.. records.DistinctBy(r => r.Id).GroupBy(r =>
            {
                var ts = r.Timestamp.ToUnixTimeMilliseconds();
                var a = r.Attribution;
                return string.Join(' ', new[] { (ts - (ts % unit)).ToString(System.Globalization.CultureInfo.InvariantCulture), r.KeyId, a.User, a.Team, a.Project, a.CostCenter, a.Customer, a.Agent, a.Feature, a.Environment, r.RequestedModel, r.Provider }.Select(v => v ?? ""));
            }, StringComparer.Ordinal)
            .Select(g => g.Key + " " + string.Join(' ', new[] { g.Count(), g.Sum(r => r.InputTokens), g.Sum(r => r.CachedTokens), g.Sum(r => r.CacheWriteTokens), g.Sum(r => r.OutputTokens), g.Sum(r => r.ReasoningTokens),
                g.Sum(r => Money.ToE10(r.Cost)), g.Sum(r => Money.ToE10(r.CacheSavings)), g.Sum(r => Money.ToE10(r.RoutingSavings)),
                g.Count(r => r.CacheHit is not null), g.Count(r => r.CacheHit == "semantic"), g.Sum(r => Money.ToE10(r.ProviderCacheSavings)), g.Count(r => r.Attempt > 1) }))
            .Order(StringComparer.Ordinal)];

    private static List<string> Rows(TestDatabase test, UsageRollup rollup) =>
        [.. test.Rows($"SELECT {rollup.Column}, {string.Join(", ", UsageRollup.Dimensions)}, {string.Join(", ", UsageRollup.Figures.Select(f => f.Column))} FROM {rollup.Table}").Order(StringComparer.Ordinal)];
}

using Microsoft.Data.Sqlite;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests.Unit;

public sealed class MigrationTests
{
    [Fact]
    public void A_ledger_from_before_the_savings_columns_gains_them_and_keeps_its_rows()
    {
        var path = Path.Combine(Path.GetTempPath(), "tollgate-migrate-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var old = Database.UsageColumns.Where(c => !c.Contains("savings", StringComparison.Ordinal) && c != "cache_hit").ToArray();
            using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                connection.Open();
                using var create = connection.CreateCommand();
                create.CommandText = $"CREATE TABLE usage ({string.Join(", ", old.Select(c => c == "id" ? "id TEXT PRIMARY KEY" : c))}); " +
                    $"INSERT INTO usage ({string.Join(", ", old)}) VALUES ({string.Join(", ", old.Select(c => c switch { "id" => "'old'", "ts" => "1", _ => "'0'" }))});";
                create.ExecuteNonQuery();
            }

            var db = new SqliteDatabase(path);
            db.Migrate();
            db.Migrate(); // idempotent
            using (var sink = db.OpenLedgerSink())
            {
                sink.Write([new UsageRecord { Id = "new", Timestamp = DateTimeOffset.UtcNow, Operation = "chat", Provider = "mock", RequestedModel = "mock/echo", CacheSavings = 0.5m, CacheHit = "exact", ProviderCacheSavings = 0.25m }]);
            }

            using var read = (SqliteConnection)db.Open();
            using var query = read.CreateCommand();
            query.CommandText = "SELECT id, cache_savings_e10, routing_savings_e10, cache_hit, provider_cache_savings_e10 FROM usage ORDER BY id";
            using var rows = query.ExecuteReader();
            Assert.True(rows.Read());
            Assert.Equal(("new", 5_000_000_000L, 0L, "exact", 2_500_000_000L), (rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2), rows.GetString(3), rows.GetInt64(4)));
            Assert.True(rows.Read());
            Assert.Equal(("old", 0L, 0L, true, 0L), (rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2), rows.IsDBNull(3), rows.GetInt64(4)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_ledger_from_before_the_response_cache_gains_its_columns_on_either_engine_and_keeps_its_rows()
    {
        await using var test = await TestDatabase.CreateAsync();
        test.Db.Migrate();
        UsageRecord Record(string id, string? hit, decimal providerSavings) =>
            new() { Id = id, Timestamp = DateTimeOffset.UnixEpoch.AddHours(1), Operation = "chat", Provider = "mock", RequestedModel = "mock/echo", CacheHit = hit, ProviderCacheSavings = providerSavings };
        using (var sink = test.Db.OpenLedgerSink())
        {
            sink.Write([Record("old", null, 0m)]);
        }

        // The ledger as the release before the response cache left it (the roll-ups' added figures have a test of their own).
        test.Execute("ALTER TABLE usage DROP COLUMN cache_hit; ALTER TABLE usage DROP COLUMN provider_cache_savings_e10");
        test.Db.Migrate();
        test.Db.Migrate(); // idempotent
        using (var sink = test.Db.OpenLedgerSink())
        {
            sink.Write([Record("semantic", "semantic", 0m), Record("provider", null, 0.0000123456m)]);
        }

        Assert.Equal(["old null 0", "provider null 123456", "semantic semantic 0"], test.Rows("SELECT id, cache_hit, provider_cache_savings_e10 FROM usage ORDER BY id"));
    }
}

using Microsoft.Data.Sqlite;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;

namespace Tollgate.Tests.Unit;

public sealed class MigrationTests
{
    [Fact]
    public void A_ledger_from_before_the_savings_columns_gains_them_and_keeps_its_rows()
    {
        var path = Path.Combine(Path.GetTempPath(), "tollgate-migrate-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var old = Database.UsageColumns.Where(c => !c.Contains("savings", StringComparison.Ordinal)).ToArray();
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
                sink.Write([new UsageRecord { Id = "new", Timestamp = DateTimeOffset.UtcNow, Operation = "chat", Provider = "mock", RequestedModel = "mock/echo", CacheSavings = 0.5m }]);
            }

            using var read = (SqliteConnection)db.Open();
            using var query = read.CreateCommand();
            query.CommandText = "SELECT id, cache_savings_e10, routing_savings_e10 FROM usage ORDER BY id";
            using var rows = query.ExecuteReader();
            Assert.True(rows.Read());
            Assert.Equal(("new", 5_000_000_000L, 0L), (rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2)));
            Assert.True(rows.Read());
            Assert.Equal(("old", 0L, 0L), (rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2)));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }
}

using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Storage;

/// <summary>The embedded SQLite file holding configuration (providers, prices, keys, settings) and the ledger.</summary>
internal sealed class SqliteDatabase : Database
{
    private readonly string _connectionString;

    public SqliteDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public override DbConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        // WAL lets the ledger writer append while admin queries read; NORMAL sync is durable across process crashes.
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public override string DayOf(string column) => $"strftime('%Y-%m-%d', {column} / 1000, 'unixepoch')";

    public override string MonthOf(string column) => $"strftime('%Y-%m', {column} / 1000, 'unixepoch')";

    public override ILedgerSink OpenLedgerSink() => new Sink((SqliteConnection)Open());

    public override void Migrate()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = Schema("INTEGER", "REAL");
        command.ExecuteNonQuery();

        // SQLite has no ADD COLUMN IF NOT EXISTS: ask which columns the ledger has.
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        command.CommandText = "SELECT name FROM pragma_table_info('usage')";
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                present.Add(reader.GetString(0));
            }
        }

        foreach (var (name, definition) in AddedUsageColumns.Where(c => !present.Contains(c.Name)))
        {
            command.CommandText = $"ALTER TABLE usage ADD COLUMN {name} {definition.Replace("{I}", "INTEGER", StringComparison.Ordinal)}";
            command.ExecuteNonQuery();
        }

        // WITHOUT ROWID: the table is its primary key's b-tree, so a range of buckets is read in one sweep.
        UsageRollup.Create(connection, TableExists, ColumnExists, "INTEGER", " WITHOUT ROWID");
        KeyLastUse.Create(connection, TableExists, "INTEGER", "MAX");
    }

    private static bool TableExists(DbConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @name";
        AddParameters(command, ("@name", table));
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private static bool ColumnExists(DbConnection connection, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info(@table) WHERE name = @column";
        AddParameters(command, ("@table", table), ("@column", column));
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>
    /// Prepared statements reused for every record, one transaction per batch. They bind through the raw SQLite API:
    /// <see cref="SqliteCommand"/> allocates a binder and a UTF-8 copy per parameter per row, which at ledger rates
    /// was a fifth of everything the gateway allocated. The roll-ups get the sums of the records the INSERT really
    /// added (<c>sqlite3_changes</c> is 0 for a record already there), in the same transaction.
    /// </summary>
    private sealed class Sink : ILedgerSink
    {
        private readonly SqliteConnection _connection;
        private readonly sqlite3_stmt _insert;
        private readonly sqlite3_stmt[] _upserts;
        private readonly RollupBatch _rollups = new();
        private readonly sqlite3_stmt _lastUse;
        private readonly Dictionary<string, long> _keysUsed = new(StringComparer.Ordinal);

        public Sink(SqliteConnection connection)
        {
            _connection = connection;
            var sql = $"INSERT INTO usage ({string.Join(", ", UsageColumns)}) VALUES ({string.Join(", ", UsageColumns.Select(_ => "?"))}) ON CONFLICT (id) DO NOTHING";
            Check(raw.sqlite3_prepare_v2(connection.Handle, sql, out _insert));
            _upserts = [.. UsageRollup.All.Select(r =>
            {
                Check(raw.sqlite3_prepare_v2(connection.Handle, r.UpsertValues, out var upsert));
                return upsert;
            })];
            Check(raw.sqlite3_prepare_v2(connection.Handle, KeyLastUse.UpsertValues("MAX"), out _lastUse));
        }

        public void Write(IReadOnlyList<UsageRecord> batch)
        {
            using var transaction = _connection.BeginTransaction();
            _rollups.Clear();
            _keysUsed.Clear();
            foreach (var record in batch)
            {
                var values = UsageValues(record);
                Run(_insert, values);
                if (raw.sqlite3_changes(_connection.Handle) == 1)
                {
                    _rollups.Add(values);
                    if (record.KeyId is { } keyId)
                    {
                        var at = record.Timestamp.ToUnixTimeMilliseconds();
                        _keysUsed[keyId] = Math.Max(at, _keysUsed.GetValueOrDefault(keyId));
                    }
                }
            }

            foreach (var (level, values) in _rollups.Rows())
            {
                Run(_upserts[level], values);
            }

            foreach (var (keyId, at) in _keysUsed)
            {
                Run(_lastUse, [keyId, at]);
            }

            transaction.Commit();
        }

        private void Run(sqlite3_stmt statement, object?[] values)
        {
            try
            {
                for (var i = 0; i < values.Length; i++)
                {
                    Check(values[i] switch
                    {
                        null => raw.sqlite3_bind_null(statement, i + 1),
                        string text => raw.sqlite3_bind_text16(statement, i + 1, text.AsSpan()),
                        long number => raw.sqlite3_bind_int64(statement, i + 1, number),
                        double real => raw.sqlite3_bind_double(statement, i + 1, real),
                        var other => throw new InvalidOperationException($"No SQLite binding for {other.GetType().Name}."),
                    });
                }

                var done = raw.sqlite3_step(statement);
                if (done != raw.SQLITE_DONE)
                {
                    Check(done);
                }
            }
            finally
            {
                raw.sqlite3_reset(statement);
            }
        }

        private void Check(int rc)
        {
            if (rc != raw.SQLITE_OK)
            {
                throw new SqliteException(raw.sqlite3_errmsg(_connection.Handle).utf8_to_string(), rc);
            }
        }

        public void Dispose()
        {
            _insert.Dispose();
            _lastUse.Dispose();
            foreach (var upsert in _upserts)
            {
                upsert.Dispose();
            }

            _connection.Dispose();
        }
    }
}

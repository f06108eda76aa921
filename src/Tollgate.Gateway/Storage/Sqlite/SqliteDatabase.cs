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
    }

    /// <summary>
    /// A prepared INSERT reused for every record, one transaction per batch. It binds through the raw SQLite API:
    /// <see cref="SqliteCommand"/> allocates a binder and a UTF-8 copy per parameter per row, which at ledger rates
    /// was a fifth of everything the gateway allocated.
    /// </summary>
    private sealed class Sink : ILedgerSink
    {
        private readonly SqliteConnection _connection;
        private readonly sqlite3_stmt _insert;

        public Sink(SqliteConnection connection)
        {
            _connection = connection;
            var sql = $"INSERT INTO usage ({string.Join(", ", UsageColumns)}) VALUES ({string.Join(", ", UsageColumns.Select(_ => "?"))}) ON CONFLICT (id) DO NOTHING";
            Check(raw.sqlite3_prepare_v2(connection.Handle, sql, out _insert));
        }

        public void Write(IReadOnlyList<UsageRecord> batch)
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var record in batch)
            {
                var values = UsageValues(record);
                try
                {
                    for (var i = 0; i < values.Length; i++)
                    {
                        Check(values[i] switch
                        {
                            null => raw.sqlite3_bind_null(_insert, i + 1),
                            string text => raw.sqlite3_bind_text16(_insert, i + 1, text.AsSpan()),
                            long number => raw.sqlite3_bind_int64(_insert, i + 1, number),
                            double real => raw.sqlite3_bind_double(_insert, i + 1, real),
                            var other => throw new InvalidOperationException($"No SQLite binding for {other.GetType().Name}."),
                        });
                    }

                    var done = raw.sqlite3_step(_insert);
                    if (done != raw.SQLITE_DONE)
                    {
                        Check(done);
                    }
                }
                finally
                {
                    raw.sqlite3_reset(_insert);
                }
            }

            transaction.Commit();
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
            _connection.Dispose();
        }
    }
}

using System.Data.Common;
using Microsoft.Data.Sqlite;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Storage;

/// <summary>The embedded SQLite file holding configuration (providers, prices, keys, settings) and the ledger.</summary>
public sealed class SqliteDatabase : Database
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
    }

    /// <summary>A prepared INSERT reused for every record; one transaction per batch.</summary>
    private sealed class Sink : ILedgerSink
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _insert;

        public Sink(SqliteConnection connection)
        {
            _connection = connection;
            _insert = connection.CreateCommand();
            _insert.CommandText = $"INSERT INTO usage ({string.Join(", ", UsageColumns)}) VALUES ({string.Join(", ", UsageColumns.Select((_, i) => "@p" + i))}) ON CONFLICT (id) DO NOTHING";
            for (var i = 0; i < UsageColumns.Length; i++)
            {
                _insert.Parameters.Add(new SqliteParameter("@p" + i, null));
            }

            _insert.Prepare();
        }

        public void Write(IReadOnlyList<UsageRecord> batch)
        {
            using var transaction = _connection.BeginTransaction();
            _insert.Transaction = transaction;
            foreach (var record in batch)
            {
                var values = UsageValues(record);
                for (var i = 0; i < values.Length; i++)
                {
                    _insert.Parameters[i].Value = values[i] ?? DBNull.Value;
                }

                _insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        public void Dispose()
        {
            _insert.Dispose();
            _connection.Dispose();
        }
    }

}

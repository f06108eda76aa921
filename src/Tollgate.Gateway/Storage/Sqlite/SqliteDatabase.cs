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
        command.CommandText = Schema;
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

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS providers (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            base_url TEXT NOT NULL,
            api_key_encrypted TEXT,
            models TEXT NOT NULL DEFAULT '[]',
            created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS prices (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            input_per_mtok TEXT NOT NULL,
            cached_input_per_mtok TEXT NOT NULL,
            cache_write_per_mtok TEXT NOT NULL,
            output_per_mtok TEXT NOT NULL,
            currency TEXT NOT NULL,
            PRIMARY KEY (provider, model)
        );
        CREATE TABLE IF NOT EXISTS keys (
            id TEXT PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            owner TEXT NOT NULL,
            models TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            revoked_at INTEGER,
            limits TEXT,
            budget TEXT,
            plan TEXT
        );
        CREATE TABLE IF NOT EXISTS quota_rules (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            limit_tokens INTEGER NOT NULL,
            cycle TEXT NOT NULL,
            time_zone TEXT NOT NULL,
            consumers TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS budgets (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            spec TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS limits (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            limits TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS alerts (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE
        );
        CREATE TABLE IF NOT EXISTS webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS deliveries (
            alert_id TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_status INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (alert_id, webhook_id)
        );
        CREATE TABLE IF NOT EXISTS audit (
            id TEXT PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        CREATE TABLE IF NOT EXISTS plans (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS usage (
            id TEXT PRIMARY KEY,
            ts INTEGER NOT NULL,
            key_id TEXT,
            "user" TEXT, team TEXT, project TEXT, cost_center TEXT, customer TEXT,
            feature TEXT, environment TEXT, agent TEXT, session TEXT,
            operation TEXT NOT NULL,
            provider TEXT NOT NULL,
            requested_model TEXT NOT NULL,
            served_model TEXT,
            response_id TEXT,
            stream INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            cached_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_e10 INTEGER NOT NULL,
            currency TEXT NOT NULL,
            latency_ms REAL NOT NULL,
            ttft_ms REAL,
            status INTEGER NOT NULL,
            error_class TEXT,
            estimated INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS usage_ts ON usage (ts);
        CREATE INDEX IF NOT EXISTS usage_response ON usage (response_id) WHERE response_id IS NOT NULL;
        """;
}

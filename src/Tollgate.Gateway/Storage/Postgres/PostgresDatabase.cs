using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// PostgreSQL for configuration, audit and the ledger, shared by every replica. The schema is migrated at start under
/// an advisory lock (replicas starting together do not race); ledger batches go in with binary COPY into a staging
/// table and one <c>INSERT … ON CONFLICT DO NOTHING</c>, so a replayed record is never counted twice.
/// </summary>
public sealed class PostgresDatabase(string connectionString) : Database, IDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public override DbConnection Open() => _source.OpenConnection();

    public override string DayOf(string column) => $"to_char(to_timestamp({column} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";

    public override string MonthOf(string column) => $"to_char(to_timestamp({column} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM')";

    public override ILedgerSink OpenLedgerSink() => new Sink(_source);

    public override void Migrate()
    {
        using var connection = _source.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT pg_advisory_lock(727274); " + Schema + " SELECT pg_advisory_unlock(727274);";
        command.ExecuteNonQuery();
    }

    public void Dispose() => _source.Dispose();

    private static readonly NpgsqlDbType[] Types =
    [
        NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint,
        NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Double, NpgsqlDbType.Double, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
    ];

    private sealed class Sink(NpgsqlDataSource source) : ILedgerSink
    {
        private static readonly string Columns = string.Join(", ", UsageColumns);

        public void Write(IReadOnlyList<UsageRecord> batch)
        {
            using var connection = source.OpenConnection();
            using var transaction = connection.BeginTransaction();
            using (var stage = connection.CreateCommand())
            {
                stage.CommandText = "CREATE TEMP TABLE IF NOT EXISTS usage_stage (LIKE usage) ON COMMIT DELETE ROWS";
                stage.ExecuteNonQuery();
            }

            using (var copy = connection.BeginBinaryImport($"COPY usage_stage ({Columns}) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var record in batch)
                {
                    copy.StartRow();
                    var values = UsageValues(record);
                    for (var i = 0; i < values.Length; i++)
                    {
                        if (values[i] is null)
                        {
                            copy.WriteNull();
                        }
                        else
                        {
                            copy.Write(values[i]!, Types[i]);
                        }
                    }
                }

                copy.Complete();
            }

            using (var insert = connection.CreateCommand())
            {
                insert.CommandText = $"INSERT INTO usage ({Columns}) SELECT {Columns} FROM usage_stage ON CONFLICT (id) DO NOTHING";
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        public void Dispose()
        {
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
            created_at BIGINT NOT NULL
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
            created_at BIGINT NOT NULL,
            expires_at BIGINT,
            revoked_at BIGINT,
            limits TEXT,
            budget TEXT,
            plan TEXT
        );
        CREATE TABLE IF NOT EXISTS quota_rules (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            limit_tokens BIGINT NOT NULL,
            cycle TEXT NOT NULL,
            time_zone TEXT NOT NULL,
            consumers TEXT NOT NULL,
            enabled BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS budgets (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            spec TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS limits (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            limits TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS alerts (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            data TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE
        );
        CREATE TABLE IF NOT EXISTS webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS deliveries (
            alert_id TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_status INTEGER,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (alert_id, webhook_id)
        );
        CREATE TABLE IF NOT EXISTS audit (
            id TEXT PRIMARY KEY,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        CREATE TABLE IF NOT EXISTS plans (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS usage (
            id TEXT PRIMARY KEY,
            ts BIGINT NOT NULL,
            key_id TEXT,
            "user" TEXT, team TEXT, project TEXT, cost_center TEXT, customer TEXT,
            feature TEXT, environment TEXT, agent TEXT, session TEXT,
            operation TEXT NOT NULL,
            provider TEXT NOT NULL,
            requested_model TEXT NOT NULL,
            served_model TEXT,
            response_id TEXT,
            stream BIGINT NOT NULL,
            input_tokens BIGINT NOT NULL,
            cached_tokens BIGINT NOT NULL,
            cache_write_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            reasoning_tokens BIGINT NOT NULL,
            cost_e10 BIGINT NOT NULL,
            currency TEXT NOT NULL,
            latency_ms DOUBLE PRECISION NOT NULL,
            ttft_ms DOUBLE PRECISION,
            status BIGINT NOT NULL,
            error_class TEXT,
            estimated BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS usage_ts ON usage (ts);
        CREATE INDEX IF NOT EXISTS usage_response ON usage (response_id) WHERE response_id IS NOT NULL;
        """;
}

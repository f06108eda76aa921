using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// PostgreSQL for configuration, audit and the ledger, shared by every replica. The schema is migrated at start under
/// an advisory lock (replicas starting together do not race); ledger batches go in with binary COPY into a staging
/// table and one <c>INSERT … ON CONFLICT DO NOTHING</c>, so a replayed record is never counted twice, and the roll-ups
/// add up only the rows that INSERT returns, in the same statement.
/// </summary>
internal sealed class PostgresDatabase(string connectionString) : Database, IDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public override DbConnection Open() => _source.OpenConnection();

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken cancel) => await _source.OpenConnectionAsync(cancel);

    public override string DayOf(string column) => $"to_char(to_timestamp({column} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";

    public override string MonthOf(string column) => $"to_char(to_timestamp({column} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM')";

    public override ILedgerSink OpenLedgerSink() => new Sink(_source);

    public override void Migrate()
    {
        using var connection = _source.OpenConnection();
        using var command = connection.CreateCommand();
        var added = string.Concat(AddedUsageColumns.Select(c => $"ALTER TABLE usage ADD COLUMN IF NOT EXISTS {c.Name} {c.Definition.Replace("{I}", "BIGINT", StringComparison.Ordinal)}; "));
        command.CommandText = "SELECT pg_advisory_lock(727274); " + Schema("BIGINT", "DOUBLE PRECISION") + added;
        command.ExecuteNonQuery();
        try
        {
            // Every batch updates the current hour's and day's rows: room left on each page lets those updates stay
            // on the page (HOT) instead of adding index entries; the hourly table came out a third smaller.
            UsageRollup.Create(connection, TableExists, ColumnExists, "BIGINT", " WITH (fillfactor = 70)");
            KeyLastUse.Create(connection, TableExists, "BIGINT", "GREATEST");
        }
        finally
        {
            command.CommandText = "SELECT pg_advisory_unlock(727274)";
            command.ExecuteNonQuery();
        }
    }

    private static bool TableExists(DbConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_regclass(@name) IS NOT NULL";
        AddParameters(command, ("@name", table));
        return (bool)command.ExecuteScalar()!;
    }

    private static bool ColumnExists(DbConnection connection, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table AND column_name = @column)";
        AddParameters(command, ("@table", table), ("@column", column));
        return (bool)command.ExecuteScalar()!;
    }

    public void Dispose() => _source.Dispose();

    private static readonly NpgsqlDbType[] Types =
    [
        NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint,
        NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Double, NpgsqlDbType.Double, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text,
        NpgsqlDbType.Bigint, NpgsqlDbType.Bigint,
        NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint, NpgsqlDbType.Bigint,
        NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text,
        NpgsqlDbType.Text, NpgsqlDbType.Bigint,
    ];

    private sealed class Sink(NpgsqlDataSource source) : ILedgerSink
    {
        private static readonly string Columns = string.Join(", ", UsageColumns);

        /// <summary>What the roll-ups and the keys' last use read of an inserted row: its time, their dimensions (key_id among them) and the columns their figures read.</summary>
        private static readonly string Returned = string.Join(", ", ["ts", .. UsageRollup.Dimensions, .. UsageRollup.Figures.Select(f => f.Source).OfType<string>().Distinct()]);

        /// <summary>
        /// The batch's new rows (a record already in the ledger returns nothing) go into the ledger and, summed per
        /// bucket, into every roll-up: one statement, so nothing is added to a roll-up that the ledger did not take.
        /// </summary>
        private static readonly string Insert =
            $"WITH inserted AS (INSERT INTO usage ({Columns}) SELECT {Columns} FROM usage_stage ON CONFLICT (id) DO NOTHING RETURNING {Returned})" +
            string.Concat(UsageRollup.All.Skip(1).Select((r, i) => $", rollup{i} AS ({r.UpsertFrom("inserted")})")) +
            $", last_use AS ({KeyLastUse.UpsertFrom("inserted", "GREATEST")}) " +
            UsageRollup.All[0].UpsertFrom("inserted");

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
                insert.CommandText = Insert;
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        public void Dispose()
        {
        }
    }

}

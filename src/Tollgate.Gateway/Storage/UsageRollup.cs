using System.Data.Common;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// A roll-up of the ledger: usage summed per UTC bucket (hour or day) and every report dimension but the session, kept
/// by the ledger sinks in the transaction that inserts the raw records, so reports read a few rows per bucket instead of
/// every call (docs/api.md "Ledger at scale"). A dimension the record leaves null is stored as <c>''</c> (a unique key
/// needs values); reports read <c>''</c> back as null.
/// </summary>
internal sealed class UsageRollup
{
    /// <summary>The ledger columns a roll-up keeps per bucket, in <see cref="Database.UsageColumns"/> spelling.</summary>
    public static readonly string[] Dimensions = ["key_id", "\"user\"", "team", "project", "cost_center", "customer", "agent", "feature", "environment", "requested_model", "provider"];

    /// <summary>The sums a roll-up keeps: its column and the aggregate over raw <c>usage</c> rows that fills it.</summary>
    public static readonly (string Column, string Aggregate)[] Figures =
    [
        ("requests", "COUNT(*)"),
        ("input_tokens", "SUM(input_tokens)"),
        ("cached_tokens", "SUM(cached_tokens)"),
        ("cache_write_tokens", "SUM(cache_write_tokens)"),
        ("output_tokens", "SUM(output_tokens)"),
        ("reasoning_tokens", "SUM(reasoning_tokens)"),
        ("cost_e10", "SUM(cost_e10)"),
        ("cache_savings_e10", "SUM(cache_savings_e10)"),
        ("routing_savings_e10", "SUM(routing_savings_e10)"),
    ];

    // Static fields initialize in textual order: the lists above come first, the constructor reads them.

    /// <summary>Per UTC hour: what reports read for whole hours.</summary>
    public static readonly UsageRollup Hourly = new("usage_hourly", "hour", 3_600_000);

    /// <summary>
    /// Per UTC day: with a few hundred keys an hour still holds hundreds of rows, so ranges of weeks and months read whole
    /// days from here and only the hours at their edges from <see cref="Hourly"/> (README, "Ledger at scale").
    /// </summary>
    public static readonly UsageRollup Daily = new("usage_daily", "day", 86_400_000);

    /// <summary>Coarsest first, the order in which a time range is cut into whole buckets.</summary>
    public static readonly IReadOnlyList<UsageRollup> All = [Daily, Hourly];

    private UsageRollup(string table, string column, long unit)
    {
        Table = table;
        Column = column;
        Unit = unit;
        var dimensions = string.Join(", ", Dimensions);
        var sums = string.Join(", ", Figures.Select(f => f.Column));
        _upsertHead = $"INSERT INTO {table} ({column}, {dimensions}, {sums}) ";
        _upsertTail = $" ON CONFLICT ({column}, {dimensions}) DO UPDATE SET " + string.Join(", ", Figures.Select(f => $"{f.Column} = {table}.{f.Column} + excluded.{f.Column}"));
    }

    private readonly string _upsertHead;
    private readonly string _upsertTail;

    public string Table { get; }

    /// <summary>The bucket's start, in Unix milliseconds like <c>usage.ts</c> (so the engines' day and month SQL reads it alike).</summary>
    public string Column { get; }

    /// <summary>The bucket's length in milliseconds; buckets start at multiples of it (UTC hours and days).</summary>
    public long Unit { get; }

    /// <summary>Adds one bucket's row, its values bound as <c>?</c> in bucket, dimension, figure order.</summary>
    public string UpsertValues => _upsertHead + "VALUES (" + string.Join(", ", Enumerable.Repeat("?", 1 + Dimensions.Length + Figures.Length)) + ")" + _upsertTail;

    /// <summary>Adds the raw rows of <paramref name="source"/> (the ledger, or the rows a batch just inserted), summed per bucket.</summary>
    public string UpsertFrom(string source)
    {
        var groups = string.Join(", ", [$"ts - ts % {Unit}", .. Dimensions.Select(d => $"COALESCE({d}, '')")]);
        // WHERE true: SQLite needs it to tell the upsert's ON from a join's. ORDER BY: concurrent PostgreSQL writers
        // lock the buckets they add to in the same order, so they wait for each other instead of deadlocking.
        return _upsertHead + $"SELECT {groups}, {string.Join(", ", Figures.Select(f => f.Aggregate))} FROM {source} WHERE true GROUP BY {groups} ORDER BY {groups}" + _upsertTail;
    }

    /// <summary>The table, for an engine: <paramref name="wholeNumber"/> is its 64-bit integer type, <paramref name="options"/> follows the closing parenthesis.</summary>
    public string Schema(string wholeNumber, string options) => $"""
        CREATE TABLE {Table} (
            {Column} {wholeNumber} NOT NULL,
            {string.Join(", ", Dimensions.Select(d => d + " TEXT NOT NULL"))},
            {string.Join(", ", Figures.Select(f => $"{f.Column} {wholeNumber} NOT NULL"))},
            PRIMARY KEY ({Column}, {string.Join(", ", Dimensions)})
        ){options};
        """;

    /// <summary>
    /// Creates each roll-up a database lacks and fills it from the ledger's rows, in one transaction per table: a ledger
    /// from before roll-ups gets them at its first start, and a fresh one gets empty tables. Runs after the ledger's
    /// added columns exist.
    /// </summary>
    public static void Create(DbConnection connection, Func<DbConnection, string, bool> exists, string wholeNumber, string options)
    {
        foreach (var rollup in All.Where(r => !exists(connection, r.Table)))
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandTimeout = 0; // the backfill of a large ledger takes as long as it takes, once
            command.CommandText = rollup.Schema(wholeNumber, options) + rollup.UpsertFrom("usage");
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }
}

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

    /// <summary>
    /// The sums a roll-up keeps, in column order: its column, the aggregate over raw <c>usage</c> rows that fills it, the
    /// raw column that aggregate reads (null: the row itself) and what one record adds, given that column's value as
    /// <see cref="Database.UsageValues"/> has it.
    /// </summary>
    public static readonly RollupFigure[] Figures =
    [
        new("requests", "COUNT(*)", null, _ => 1),
        Sum("input_tokens"),
        Sum("cached_tokens"),
        Sum("cache_write_tokens"),
        Sum("output_tokens"),
        Sum("reasoning_tokens"),
        Sum("cost_e10"),
        Sum("cache_savings_e10"),
        Sum("routing_savings_e10"),

        // Added after the first roll-ups (see AddedFigures). Calls the response cache answered, of them the semantic
        // ones; what the provider's prompt cache saved; attempts after a call's first (retries and fallbacks), so a
        // report can count calls as well as attempts.
        new("cache_hits", "COUNT(cache_hit)", "cache_hit", v => v is null ? 0 : 1),
        new("semantic_hits", "COUNT(CASE WHEN cache_hit = 'semantic' THEN 1 END)", "cache_hit", v => v is "semantic" ? 1 : 0),
        Sum("provider_cache_savings_e10"),
        new("later_attempts", "COUNT(CASE WHEN attempt > 1 THEN 1 END)", "attempt", v => (long)v! > 1 ? 1 : 0),
    ];

    /// <summary>
    /// The figures added to roll-ups after they were first created: a roll-up table without them gains them at start,
    /// filled from the raw records still in the ledger (pruned hours keep 0).
    /// </summary>
    private static readonly string[] AddedFigures = ["cache_hits", "semantic_hits", "provider_cache_savings_e10", "later_attempts"];

    private static RollupFigure Sum(string column) => new(column, $"SUM({column})", column, v => (long)v!);

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
    /// from before roll-ups gets them at its first start, and a fresh one gets empty tables; a roll-up from before some
    /// of its figures gains them (<see cref="AddedFigures"/>). Runs after the ledger's added columns exist.
    /// </summary>
    public static void Create(DbConnection connection, Func<DbConnection, string, bool> exists, Func<DbConnection, string, string, bool> columnExists, string wholeNumber, string options)
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

        foreach (var rollup in All)
        {
            var missing = AddedFigures.Where(f => !columnExists(connection, rollup.Table, f)).ToList();
            if (missing.Count > 0)
            {
                rollup.AddFigures(connection, missing, wholeNumber);
            }
        }
    }

    /// <summary>
    /// Adds figures to a roll-up from before them, in one transaction: the columns (0 everywhere), then each bucket's
    /// sums of the raw records it holds, for the buckets where one of them is not 0.
    /// </summary>
    private void AddFigures(DbConnection connection, List<string> columns, string wholeNumber)
    {
        var figures = Figures.Where(f => columns.Contains(f.Column)).ToList();
        var groups = new[] { ($"ts - ts % {Unit}", Column) }.Concat(Dimensions.Select(d => ($"COALESCE({d}, '')", d))).ToList();
        var sums = string.Join(", ", figures.Select(f => $"{f.Aggregate} AS {f.Column}"));
        var source = $"SELECT {string.Join(", ", groups.Select(g => $"{g.Item1} AS {g.Item2}"))}, {sums} FROM usage " +
            $"GROUP BY {string.Join(", ", groups.Select(g => g.Item1))} HAVING {string.Join(" OR ", figures.Select(f => f.Aggregate + " <> 0"))}";
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandTimeout = 0; // once, over the whole ledger, as the roll-ups' own backfill
        command.CommandText = string.Concat(figures.Select(f => $"ALTER TABLE {Table} ADD COLUMN {f.Column} {wholeNumber} NOT NULL DEFAULT 0; ")) +
            $"UPDATE {Table} SET {string.Join(", ", figures.Select(f => $"{f.Column} = x.{f.Column}"))} FROM ({source}) x " +
            $"WHERE {string.Join(" AND ", groups.Select(g => $"{Table}.{g.Item2} = x.{g.Item2}"))}";
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}

/// <summary>One sum a roll-up keeps (<see cref="UsageRollup.Figures"/>).</summary>
/// <param name="Column">The roll-up's column.</param>
/// <param name="Aggregate">The SQL aggregate over raw <c>usage</c> rows that fills it.</param>
/// <param name="Source">The raw column <paramref name="Aggregate"/> reads; null when it counts rows.</param>
/// <param name="PerRecord">What one record adds, given the value of <paramref name="Source"/> (null when there is none).</param>
internal sealed record RollupFigure(string Column, string Aggregate, string? Source, Func<object?, long> PerRecord);

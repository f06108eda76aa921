using System.Collections.Frozen;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary>
/// <c>GET /admin/usage</c> and every report built on it: ledger totals between two instants, grouped by any of the
/// contract's dimensions and optionally filtered on them. Whole UTC days come from the daily roll-up, whole hours from
/// the hourly one, and only the minutes at the range's edges from the raw ledger, so the figures are exactly the
/// ledger's while a report reads a few hundred rows per day instead of every call. The session and the route are not in
/// the roll-ups: grouping or filtering by them reads the raw ledger.
/// </summary>
internal sealed class UsageQuery(Database db, LedgerWriter ledger)
{
    /// <summary>The group_by names; days and months are UTC.</summary>
    public static readonly FrozenSet<string> Dimensions = new[] { "team", "project", "user", "cost_center", "customer", "feature", "environment", "agent", "session", "route", "model", "provider", "key", "day", "month" }.ToFrozenSet();

    /// <summary>The dimensions <c>/admin/usage</c> also takes as filters (<c>?key=…</c>, <c>?team=…</c>): all but day and month.</summary>
    public static readonly FrozenSet<string> Filters = Dimensions.Where(d => d is not ("day" or "month")).ToFrozenSet();

    /// <summary>The figures of every row, after its group fields, in this order.</summary>
    public static readonly string[] Figures = ["requests", "input_tokens", "cached_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "total_tokens", "cost", "cache_savings", "routing_savings", "cache_hits", "provider_cache_savings"];

    /// <summary>
    /// Every row's figures: <see cref="Figures"/>, then two that no report lists but <see cref="CacheStats(DateTimeOffset, DateTimeOffset)"/>
    /// reads: <c>semantic_hits</c> (of <c>cache_hits</c>) and <c>later_attempts</c> (records of a call's retries and fallbacks).
    /// </summary>
    private static readonly string[] RowFigures = [.. Figures, "semantic_hits", "later_attempts"];

    /// <summary>Each roll-up figure's name in a row: its column, money (<c>_e10</c>) read as decimal under the name without the suffix.</summary>
    private static readonly (string Name, bool Money)[] FigureNames = [.. UsageRollup.Figures.Select(f => f.Column.EndsWith("_e10", StringComparison.Ordinal) ? (f.Column[..^4], true) : (f.Column, false))];

    /// <summary>The <c>settings</c> row holding the instant (Unix ms, a whole hour) before which raw records were pruned.</summary>
    public const string PrunedBeforeSetting = "ledger_pruned_before";

    private const string Session = "session";

    private const string Route = "route";

    /// <summary>The column of each dimension but day and month: every scope's own, then the fields that are not scopes.</summary>
    private static readonly FrozenDictionary<string, string> Columns = Governance.Scope.All.Select(s => KeyValuePair.Create(s.Name, s.Column))
        .Concat([new("feature", "feature"), new("environment", "environment"), new(Session, Session), new(Route, Route), new("model", "requested_model"), new("provider", "provider")])
        .ToFrozenDictionary(StringComparer.Ordinal);

    private static bool RawOnly(string dimension) => dimension is Session or Route;

    /// <summary>Reports read their own writes: waits for the records already handed to the writer, then runs the query.</summary>
    public Task<IReadOnlyList<Dictionary<string, object?>>> RunAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> groupBy, CancellationToken cancellationToken) =>
        RunAsync(from, to, groupBy, FrozenDictionary<string, string>.Empty, cancellationToken);

    /// <inheritdoc cref="RunAsync(DateTimeOffset, DateTimeOffset, IReadOnlyList{string}, CancellationToken)"/>
    public async Task<IReadOnlyList<Dictionary<string, object?>>> RunAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> groupBy, IReadOnlyDictionary<string, string> filters, CancellationToken cancellationToken)
    {
        await CatchUpAsync(cancellationToken);
        return Run(from, to, groupBy, filters);
    }

    /// <summary>
    /// As <see cref="RunAsync(DateTimeOffset, DateTimeOffset, IReadOnlyList{string}, IReadOnlyDictionary{string, string}, CancellationToken)"/>,
    /// with <c>day</c> and <c>month</c> in <paramref name="zone"/>: the query groups by hour (the hourly roll-up) or, in a
    /// zone whose offset is not whole hours, by quarter hour (raw records), and each bucket is then put in its local day
    /// or month, so the figures stay exactly the ledger's.
    /// </summary>
    public async Task<IReadOnlyList<Dictionary<string, object?>>> RunAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> groupBy, IReadOnlyDictionary<string, string> filters, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        await CatchUpAsync(cancellationToken);
        if (zone.Id == TimeZoneInfo.Utc.Id || !groupBy.Any(g => g is "day" or "month"))
        {
            return Run(from, to, groupBy, filters);
        }

        var unit = WholeHours(zone) ? UsageRollup.Hourly.Unit : QuarterHour;
        var buckets = Run(from, to, [.. groupBy.Select(g => g is "day" or "month" ? Bucket : g).Distinct()], filters, unit);
        return Localize(buckets, groupBy, zone);
    }

    private const string Bucket = "bucket";

    private const long QuarterHour = 900_000;

    /// <summary>Every offset the zone has ever had is whole hours (so an hour never straddles its midnight).</summary>
    private static bool WholeHours(TimeZoneInfo zone) =>
        zone.BaseUtcOffset.Ticks % TimeSpan.TicksPerHour == 0
        && zone.GetAdjustmentRules().All(r => r.DaylightDelta.Ticks % TimeSpan.TicksPerHour == 0 && r.BaseUtcOffsetDelta.Ticks % TimeSpan.TicksPerHour == 0);

    /// <summary>Merges time buckets into the local days or months they fall in, summing their figures.</summary>
    private static List<Dictionary<string, object?>> Localize(List<Dictionary<string, object?>> buckets, IReadOnlyList<string> groupBy, TimeZoneInfo zone)
    {
        var merged = new Dictionary<string, Dictionary<string, object?>>(StringComparer.Ordinal);
        foreach (var bucket in buckets)
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds((long)bucket[Bucket]!), zone);
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var g in groupBy)
            {
                row[g] = g switch
                {
                    "day" => local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    "month" => local.ToString("yyyy-MM", CultureInfo.InvariantCulture),
                    _ => bucket[g],
                };
            }

            var key = string.Join('\u0001', groupBy.Select(g => row[g] as string ?? "\u0000"));
            if (!merged.TryGetValue(key, out var into))
            {
                foreach (var figure in RowFigures)
                {
                    row[figure] = bucket[figure];
                }

                merged[key] = row;
                continue;
            }

            foreach (var figure in RowFigures)
            {
                // Counts stay longs and money decimals (a conditional expression would make both decimals).
                into[figure] = into[figure] switch
                {
                    long count => (object)(count + (long)bucket[figure]!),
                    var money => (decimal)money! + (decimal)bucket[figure]!,
                };
            }
        }

        return Sorted([.. merged.Values], groupBy);
    }

    /// <summary>Waits (up to 30 s) until every record handed to the writer so far is in the database.</summary>
    public Task CatchUpAsync(CancellationToken cancellationToken) => ledger.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>
    /// The totals of the records matching every filter (dimension → value) between two instants, or null when there are
    /// none; for callers that have already caught up with the writer (<see cref="CatchUpAsync"/>).
    /// </summary>
    public Dictionary<string, object?>? Totals(DateTimeOffset from, DateTimeOffset to, IReadOnlyDictionary<string, string> filters) =>
        Run(from, to, [], filters) is [var row] ? row : null;

    /// <summary>
    /// The ledger's side of <c>GET /admin/cache/stats</c> between two instants, after catching up with the writer; see
    /// <see cref="CacheStats(DateTimeOffset, DateTimeOffset)"/>.
    /// </summary>
    public async Task<CacheLedgerStats> CacheStatsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await CatchUpAsync(cancellationToken);
        return CacheStats(from, to);
    }

    /// <summary>
    /// The ledger's side of <c>GET /admin/cache/stats</c> between two instants, from the roll-ups as every report (exactly
    /// <c>/admin/usage</c>'s figures for the range); for callers that have already caught up with the writer.
    /// <list type="bullet">
    /// <item><c>requests</c>: calls, not attempts: the records of the range less those of retries and fallbacks (attempt 2
    /// and later), so a call counts once however many providers it tried; a cache hit is a call's only record.</item>
    /// <item><c>exact_hits</c>, <c>semantic_hits</c>: records the response cache answered (<c>cache_hit</c>); every kind but
    /// <c>semantic</c> counts as exact.</item>
    /// <item><c>misses</c> = <c>requests</c> − hits. The ledger cannot tell a call that a cache policy looked up and did not
    /// find from one no policy covered (or that asked for no cache), so every call not answered from the cache counts as a
    /// miss, and <c>hit_rate</c> (hits ÷ requests, 4 decimals) is the share of all traffic the cache answered.</item>
    /// <item><c>cache_savings</c>, <c>provider_cache_savings</c>: the records' sums, as in the reports.</item>
    /// </list>
    /// </summary>
    public CacheLedgerStats CacheStats(DateTimeOffset from, DateTimeOffset to)
    {
        if (Totals(from, to, FrozenDictionary<string, string>.Empty) is not { } row)
        {
            return new CacheLedgerStats(0, 0, 0, 0, 0m, 0m, 0m);
        }

        var requests = (long)row["requests"]! - (long)row["later_attempts"]!;
        var semantic = (long)row["semantic_hits"]!;
        var exact = (long)row["cache_hits"]! - semantic;
        var hitRate = requests == 0 ? 0m : Money.Trim(Math.Round((decimal)(exact + semantic) / requests, 4, MidpointRounding.ToEven));
        return new CacheLedgerStats(requests, exact, semantic, requests - exact - semantic, hitRate, (decimal)row["cache_savings"]!, (decimal)row["provider_cache_savings"]!);
    }

    /// <param name="bucketUnit">The width of the <see cref="Bucket"/> pseudo-dimension, when grouped by it: an hour (hourly roll-up) or less (raw records).</param>
    private List<Dictionary<string, object?>> Run(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> groupBy, IReadOnlyDictionary<string, string> filters, long bucketUnit = 0)
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        var useRollups = !groupBy.Any(RawOnly) && !filters.Keys.Any(RawOnly);
        // Buckets narrower than a roll-up's unit cannot use it: hours skip the daily roll-up, quarter hours both.
        var firstLevel = !groupBy.Contains(Bucket) ? 0 : bucketUnit % UsageRollup.Hourly.Unit == 0 ? UsageRollup.All.Count - 1 : UsageRollup.All.Count;
        var parts = Parts(from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds(), useRollups ? PrunedBefore(connection) : 0, useRollups, firstLevel);
        if (parts.Count == 0)
        {
            return [];
        }

        var where = new StringBuilder();
        foreach (var (dimension, value) in filters)
        {
            var name = "@f" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
            where.Append(CultureInfo.InvariantCulture, $" AND {Columns[dimension]} = {name}");
            Database.AddParameters(command, (name, value));
        }

        var groups = string.Join(", ", groupBy.Select((g, i) => Outer(g, "g" + i)));
        var sql = new StringBuilder("SELECT ").Append(groups).Append(groupBy.Count == 0 ? "" : ", ");
        sql.AppendJoin(", ", SumNames.Select(n => $"COALESCE(SUM({n}), 0)"));
        sql.Append(" FROM (");
        for (var i = 0; i < parts.Count; i++)
        {
            var (rollup, start, end) = parts[i];
            var (table, time) = rollup is null ? ("usage", "ts") : (rollup.Table, rollup.Column);
            var selected = groupBy.Select(g => g == Bucket ? $"({time} - ({time} % {bucketUnit}))" : Expression(g, time)).ToList();
            sql.Append(i == 0 ? "" : " UNION ALL ").Append("SELECT ");
            sql.AppendJoin("", selected.Select((e, j) => $"{e} AS g{j}, "));
            sql.AppendJoin(", ", SumNames.Select((n, j) => $"{(rollup is null ? RawSums[j] : $"SUM({UsageRollup.Figures[j].Column})")} AS {n}"));
            sql.Append(CultureInfo.InvariantCulture, $" FROM {table} WHERE {time} >= @a{i} AND {time} < @b{i}").Append(where);
            sql.Append(selected.Count == 0 ? "" : " GROUP BY " + string.Join(", ", selected));
            Database.AddParameters(command, ($"@a{i}", start), ($"@b{i}", end));
        }

        sql.Append(") parts").Append(groupBy.Count == 0 ? "" : $" GROUP BY {groups}");
        command.CommandText = sql.ToString();
        return Sorted(Read(command, groupBy), groupBy);
    }

    /// <summary>
    /// Rows in one order on every engine and path (PostgreSQL would sort by locale and put nulls last): ordinal by each
    /// group in turn, the unattributed first, time buckets by time.
    /// </summary>
    private static List<Dictionary<string, object?>> Sorted(List<Dictionary<string, object?>> rows, IReadOnlyList<string> groupBy)
    {
        rows.Sort((a, b) =>
        {
            foreach (var g in groupBy)
            {
                var order = (a[g], b[g]) switch
                {
                    (long x, long y) => x.CompareTo(y),
                    var (x, y) => string.CompareOrdinal(x as string, y as string),
                };
                if (order != 0)
                {
                    return order;
                }
            }

            return 0;
        });
        return rows;
    }

    private static readonly string[] SumNames = [.. UsageRollup.Figures.Select(f => "s_" + f.Column)];

    private static readonly string[] RawSums = [.. UsageRollup.Figures.Select(f => f.Aggregate)];

    /// <summary>
    /// Cuts [from, to) into whole UTC days (daily roll-up), whole hours (hourly roll-up) and the minutes at its edges
    /// (raw ledger; null roll-up). Before <paramref name="prunedBefore"/> there are no raw rows: there an hour counts when
    /// it starts in the range, as refusal counts do.
    /// </summary>
    private static List<(UsageRollup? Rollup, long From, long To)> Parts(long from, long to, long prunedBefore, bool useRollups, int firstLevel)
    {
        var parts = new List<(UsageRollup?, long, long)>();
        if (!useRollups)
        {
            Add(from, to, UsageRollup.All.Count);
            return parts;
        }

        var hour = UsageRollup.Hourly.Unit;
        from = from < prunedBefore ? Ceiling(from, hour) : from;
        to = to < prunedBefore ? Ceiling(to, hour) : to;
        Add(from, to, firstLevel);
        return parts;

        void Add(long start, long end, int level)
        {
            if (start >= end)
            {
                return;
            }

            if (level == UsageRollup.All.Count)
            {
                parts.Add((null, start, end));
                return;
            }

            var unit = UsageRollup.All[level].Unit;
            var (first, last) = (Ceiling(start, unit), end - (end % unit));
            if (first >= last)
            {
                Add(start, end, level + 1);
                return;
            }

            Add(start, first, level + 1);
            parts.Add((UsageRollup.All[level], first, last));
            Add(last, end, level + 1);
        }
    }

    private static long Ceiling(long instant, long unit) => instant % unit == 0 ? instant : instant - (instant % unit) + unit;

    /// <summary>
    /// A dimension in one part of the range: '' stored for a missing dimension reads as null; days and months are
    /// grouped by the start of the UTC day, an integer, and named only in <see cref="Outer"/>, once per result row
    /// (SQLite's strftime per bucket row took a seventh of a report's time).
    /// </summary>
    private static string Expression(string dimension, string time) => dimension switch
    {
        "day" or "month" => $"{time} - {time} % {UsageRollup.Daily.Unit}",
        "model" or "provider" => Columns[dimension],
        _ => $"NULLIF({Columns[dimension]}, '')",
    };

    /// <summary>A dimension as the whole range's query groups and returns it: days and months named from the day's start.</summary>
    private string Outer(string dimension, string part) => dimension switch
    {
        "day" => db.DayOf(part),
        "month" => db.MonthOf(part),
        _ => part,
    };

    private static long PrunedBefore(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT value FROM settings WHERE name = '{PrunedBeforeSetting}'";
        return command.ExecuteScalar() is string value ? long.Parse(value, CultureInfo.InvariantCulture) : 0;
    }

    private static List<Dictionary<string, object?>> Read(DbCommand command, IReadOnlyList<string> groupBy)
    {
        using var r = command.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (r.Read())
        {
            var n = groupBy.Count;
            // PostgreSQL sums bigints as numeric: read every figure as a long, whatever its column type.
            long At(int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);
            if (n == 0 && At(0) == 0)
            {
                break;
            }

            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                row[groupBy[i]] = r.IsDBNull(i) ? null : groupBy[i] == Bucket ? Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture) : r.GetString(i);
            }

            for (var j = 0; j < FigureNames.Length; j++)
            {
                var (name, money) = FigureNames[j];
                row[name] = money ? Money.FromE10(At(n + j)) : (object)At(n + j); // counts stay longs
            }

            row["total_tokens"] = (long)row["input_tokens"]! + (long)row["output_tokens"]!; // what quota rules count: input (cached included) + output
            rows.Add(row);
        }

        return rows;
    }
}

/// <summary>The ledger's figures of <c>GET /admin/cache/stats</c> (<see cref="UsageQuery.CacheStats(DateTimeOffset, DateTimeOffset)"/>), in snake_case on the wire.</summary>
internal sealed record CacheLedgerStats(long Requests, long ExactHits, long SemanticHits, long Misses, decimal HitRate, decimal CacheSavings, decimal ProviderCacheSavings);

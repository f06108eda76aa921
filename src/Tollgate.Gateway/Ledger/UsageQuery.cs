using System.Collections.Frozen;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary><c>GET /admin/usage</c>: ledger totals between two instants, grouped by any of the contract's dimensions.</summary>
internal sealed class UsageQuery(Database db, LedgerWriter ledger)
{
    /// <summary>The group_by names; days and months are UTC.</summary>
    public static readonly FrozenSet<string> Dimensions = new[] { "team", "project", "user", "cost_center", "customer", "feature", "environment", "agent", "session", "model", "provider", "key", "day", "month" }.ToFrozenSet();

    /// <summary>The column of each dimension: every scope's own, then the attribution and call fields that are not scopes.</summary>
    private readonly Dictionary<string, string> _columns = Columns(db);

    private static Dictionary<string, string> Columns(Database db)
    {
        var columns = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["feature"] = "feature",
            ["environment"] = "environment",
            ["session"] = "session",
            ["model"] = "requested_model",
            ["provider"] = "provider",
            ["day"] = db.DayOf("ts"),
            ["month"] = db.MonthOf("ts"),
        };
        foreach (var scope in Governance.Scope.All)
        {
            columns[scope.Name] = scope.Column;
        }

        return columns;
    }

    /// <summary>Reports read their own writes: waits for the records already handed to the writer, then runs the query.</summary>
    public async Task<IReadOnlyList<Dictionary<string, object?>>> RunAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> groupBy, CancellationToken cancellationToken)
    {
        await CatchUpAsync(cancellationToken);
        return Run(from, to, groupBy);
    }

    /// <summary>Waits (up to 30 s) until every record handed to the writer so far is in the database.</summary>
    public Task CatchUpAsync(CancellationToken cancellationToken) => ledger.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

    private List<Dictionary<string, object?>> Run(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> groupBy)
    {
        var selected = string.Concat(groupBy.Select(g => _columns[g] + ", "));
        var grouping = groupBy.Count == 0 ? "" : " GROUP BY " + string.Join(", ", groupBy.Select(g => _columns[g])) + " ORDER BY " + string.Join(", ", groupBy.Select(g => _columns[g]));
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {selected} COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(cache_write_tokens), 0),
                   COALESCE(SUM(output_tokens), 0), COALESCE(SUM(reasoning_tokens), 0), COALESCE(SUM(cost_e10), 0),
                   COALESCE(SUM(cache_savings_e10), 0), COALESCE(SUM(routing_savings_e10), 0)
            FROM usage WHERE ts >= @from AND ts < @to{grouping}
            """;
        Database.AddParameters(command, ("@from", from.ToUnixTimeMilliseconds()));
        Database.AddParameters(command, ("@to", to.ToUnixTimeMilliseconds()));
        using var r = command.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (r.Read())
        {
            var n = groupBy.Count;
            if (n == 0 && Convert.ToInt64(r.GetValue(0), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                break;
            }

            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                row[groupBy[i]] = r.IsDBNull(i) ? null : r.GetString(i);
            }

            // PostgreSQL sums bigints as numeric: read every figure as a long, whatever its column type.
            long At(int i) => Convert.ToInt64(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
            row["requests"] = At(n);
            row["input_tokens"] = At(n + 1);
            row["cached_tokens"] = At(n + 2);
            row["cache_write_tokens"] = At(n + 3);
            row["output_tokens"] = At(n + 4);
            row["reasoning_tokens"] = At(n + 5);
            row["cost"] = Money.FromE10(At(n + 6));
            row["cache_savings"] = Money.FromE10(At(n + 7));
            row["routing_savings"] = Money.FromE10(At(n + 8));
            rows.Add(row);
        }

        return rows;
    }
}

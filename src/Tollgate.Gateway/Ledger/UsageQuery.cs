using System.Collections.Frozen;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary><c>GET /admin/usage</c>: ledger totals between two instants, grouped by any of the contract's dimensions.</summary>
public sealed class UsageQuery(SqliteDatabase db)
{
    /// <summary>group_by name → SQL expression. Days and months are UTC.</summary>
    public static readonly FrozenDictionary<string, string> Dimensions = new Dictionary<string, string>
    {
        ["team"] = "team",
        ["project"] = "project",
        ["user"] = "user",
        ["cost_center"] = "cost_center",
        ["customer"] = "customer",
        ["feature"] = "feature",
        ["environment"] = "environment",
        ["agent"] = "agent",
        ["session"] = "session",
        ["model"] = "requested_model",
        ["provider"] = "provider",
        ["key"] = "key_id",
        ["day"] = "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')",
        ["month"] = "strftime('%Y-%m', ts / 1000, 'unixepoch')",
    }.ToFrozenDictionary();

    public IReadOnlyList<Dictionary<string, object?>> Run(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string> groupBy)
    {
        var selected = string.Concat(groupBy.Select(g => Dimensions[g] + ", "));
        var grouping = groupBy.Count == 0 ? "" : " GROUP BY " + string.Join(", ", groupBy.Select(g => Dimensions[g])) + " ORDER BY " + string.Join(", ", groupBy.Select(g => Dimensions[g]));
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {selected} COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(cache_write_tokens), 0),
                   COALESCE(SUM(output_tokens), 0), COALESCE(SUM(reasoning_tokens), 0), COALESCE(SUM(cost_e10), 0)
            FROM usage WHERE ts >= $from AND ts < $to{grouping}
            """;
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        using var r = command.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (r.Read())
        {
            var n = groupBy.Count;
            if (n == 0 && r.GetInt64(0) == 0)
            {
                break;
            }

            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                row[groupBy[i]] = r.IsDBNull(i) ? null : r.GetString(i);
            }

            row["requests"] = r.GetInt64(n);
            row["input_tokens"] = r.GetInt64(n + 1);
            row["cached_tokens"] = r.GetInt64(n + 2);
            row["cache_write_tokens"] = r.GetInt64(n + 3);
            row["output_tokens"] = r.GetInt64(n + 4);
            row["reasoning_tokens"] = r.GetInt64(n + 5);
            row["cost"] = Money.FromE10(r.GetInt64(n + 6));
            rows.Add(row);
        }

        return rows;
    }
}

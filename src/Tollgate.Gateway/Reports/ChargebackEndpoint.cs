using System.Globalization;
using System.Text;
using Tollgate.Gateway.Admin;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Reports;

/// <summary>
/// <c>GET /admin/reports/chargeback?month=YYYY-MM&amp;by=team&amp;format=json|csv&amp;time_zone=</c>: one row per group with the
/// month's requests, tokens by kind, cost and cost per request — the same query as <c>/admin/usage</c>, so the figures
/// are exactly the ledger's.
/// </summary>
public static class ChargebackEndpoint
{
    private static readonly string[] GroupBy = ["team", "project", "cost_center", "user", "customer", "feature"];
    private static readonly string[] Figures = ["requests", "input_tokens", "cached_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost", "cost_per_request"];

    public static async Task<IResult> HandleAsync(HttpRequest http, UsageQuery query)
    {
        var by = http.Query["by"].ToString() is { Length: > 0 } b ? b : "team";
        if (!GroupBy.Contains(by))
        {
            return AdminEndpoints.Invalid($"'by' must be one of {string.Join(", ", GroupBy)}.", "by");
        }

        if (!DateTime.TryParseExact(http.Query["month"].ToString(), "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
        {
            return AdminEndpoints.Invalid("'month' must be YYYY-MM.", "month");
        }

        var zoneName = http.Query["time_zone"].ToString() is { Length: > 0 } z ? z : "UTC";
        if (Periods.FindZone(zoneName) is not { } zone)
        {
            return AdminEndpoints.Invalid($"Unknown time zone '{zoneName}'.", "time_zone");
        }

        var format = http.Query["format"].ToString() is { Length: > 0 } f ? f : "json";
        if (format is not ("json" or "csv"))
        {
            return AdminEndpoints.Invalid("'format' must be json or csv.", "format");
        }

        // Any instant inside the month, in its zone, gives the month's bounds.
        var middle = new DateTimeOffset(month.AddDays(14), zone.GetUtcOffset(month.AddDays(14)));
        var (from, to) = Periods.Current("month", zone, middle);
        var rows = await query.RunAsync(from, to, [by], http.HttpContext.RequestAborted);
        foreach (var row in rows)
        {
            var requests = (long)row["requests"]!;
            row["cost_per_request"] = requests == 0 ? 0m : Math.Round((decimal)row["cost"]! / requests, 10, MidpointRounding.ToEven);
        }

        if (format == "json")
        {
            return AdminEndpoints.Json(rows);
        }

        var csv = new StringBuilder();
        csv.AppendJoin(',', [by, .. Figures]).Append('\n');
        foreach (var row in rows)
        {
            csv.Append(Escape(row[by] as string)).Append(',');
            csv.AppendJoin(',', Figures.Select(name => Convert.ToString(row[name], CultureInfo.InvariantCulture))).Append('\n');
        }

        return Results.Text(csv.ToString(), "text/csv; charset=utf-8");
    }

    /// <summary>RFC 4180: quote a value holding a comma, quote or line break; an unattributed group is empty.</summary>
    private static string Escape(string? value) =>
        value is null ? "" : value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

using System.Globalization;
using System.Text;
using Tollgate.Gateway.Admin;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Reports;

/// <summary>
/// The finance reports, both computed by the ledger's own query (the one behind <c>/admin/usage</c>), so their figures
/// are exactly the ledger's, in JSON or CSV:
/// <list type="bullet">
/// <item><c>GET /admin/reports/chargeback?month=YYYY-MM&amp;by=team&amp;format=json|csv&amp;time_zone=</c>: the monthly bill per group.</item>
/// <item><c>GET /admin/reports/unit-economics?from=&amp;to=&amp;by=customer&amp;format=json|csv</c>: cost per request, per million
/// tokens and tokens per request for each customer, feature or other group, with what caching and routing saved.</item>
/// </list>
/// Both end with the calls the response cache answered (<c>cache_hits</c>) and what the providers' own prompt caches saved
/// (<c>provider_cache_savings</c>), after the figures they had before (CSV columns only added at the end).
/// </summary>
internal static class ReportEndpoints
{
    private static readonly string[] GroupBy = [Scope.Team.Name, Scope.Project.Name, Scope.CostCenter.Name, Scope.User.Name, Scope.Customer.Name, "feature"];

    private static readonly string[] UnitGroupBy = [.. GroupBy, "model", Scope.Key.Name];

    private static readonly string[] Figures = ["requests", "input_tokens", "cached_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost", "cost_per_request", "cache_savings", "routing_savings", "cache_hits", "provider_cache_savings"];

    private static readonly string[] UnitFigures = ["requests", "input_tokens", "output_tokens", "cost", "cost_per_request", "cost_per_million_tokens", "input_tokens_per_request", "output_tokens_per_request", "cache_savings", "routing_savings", "savings_rate", "cache_hits", "provider_cache_savings"];

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

        if (Format(http) is not { } format)
        {
            return AdminEndpoints.Invalid("'format' must be json or csv.", "format");
        }

        // Any instant inside the month, in its zone, gives the month's bounds.
        var middle = new DateTimeOffset(month.AddDays(14), zone.GetUtcOffset(month.AddDays(14)));
        var (from, to) = Periods.Current("month", zone, middle);
        var rows = await query.RunAsync(from, to, [by], http.HttpContext.RequestAborted);
        foreach (var row in rows)
        {
            row["cost_per_request"] = Per((decimal)row["cost"]!, (long)row["requests"]!);
        }

        return Respond(rows, by, Figures, format);
    }

    public static async Task<IResult> UnitEconomicsAsync(HttpRequest http, UsageQuery query, TimeProvider time)
    {
        var by = http.Query["by"].ToString() is { Length: > 0 } b ? b : "customer";
        if (!UnitGroupBy.Contains(by))
        {
            return AdminEndpoints.Invalid($"'by' must be one of {string.Join(", ", UnitGroupBy)}.", "by");
        }

        var (from, to, error) = AdminEndpoints.TimeRange(http, time);
        if (error is not null)
        {
            return error;
        }

        if (Format(http) is not { } format)
        {
            return AdminEndpoints.Invalid("'format' must be json or csv.", "format");
        }

        var rows = await query.RunAsync(from, to, [by], http.HttpContext.RequestAborted);
        foreach (var row in rows)
        {
            var requests = (long)row["requests"]!;
            var cost = (decimal)row["cost"]!;
            var savings = (decimal)row["cache_savings"]! + (decimal)row["routing_savings"]!;
            row["cost_per_request"] = Per(cost, requests);
            row["cost_per_million_tokens"] = Per(cost * 1_000_000m, (long)row["input_tokens"]! + (long)row["output_tokens"]!);
            row["input_tokens_per_request"] = Per((long)row["input_tokens"]!, requests);
            row["output_tokens_per_request"] = Per((long)row["output_tokens"]!, requests);
            // The share of what the calls would have cost that the response cache and routing avoided (the providers' prompt
            // caches are in the cost already, at their cached price, and in provider_cache_savings).
            row["savings_rate"] = cost + savings == 0 ? 0m : Money.Trim(Math.Round(savings / (cost + savings), 4, MidpointRounding.ToEven));
        }

        return Respond(rows, by, UnitFigures, format);
    }

    internal static string? Format(HttpRequest http) =>
        http.Query["format"].ToString() is { Length: > 0 } f ? f is "json" or "csv" ? f : null : "json";

    private static decimal Per(decimal amount, long count) => count == 0 ? 0m : Money.Trim(Math.Round(amount / count, 10, MidpointRounding.ToEven));

    private static IResult Respond(IReadOnlyList<Dictionary<string, object?>> rows, string by, string[] figures, string format) =>
        Respond(rows, [by], figures, format);

    /// <summary>The rows as JSON, or as CSV: the group columns, then the figures, one line per row.</summary>
    internal static IResult Respond(IReadOnlyList<Dictionary<string, object?>> rows, IReadOnlyList<string> groups, IReadOnlyList<string> figures, string format)
    {
        if (format == "json")
        {
            return AdminEndpoints.Json(rows.Select(row => groups.Concat(figures).ToDictionary(name => name, name => row[name])));
        }

        var csv = new StringBuilder();
        csv.AppendJoin(',', groups.Concat(figures)).Append('\n');
        foreach (var row in rows)
        {
            csv.AppendJoin(',', groups.Select(name => CsvField(row[name] as string)).Concat(figures.Select(name => Convert.ToString(row[name], CultureInfo.InvariantCulture)))).Append('\n');
        }

        return Results.Text(csv.ToString(), "text/csv; charset=utf-8");
    }

    /// <summary>RFC 4180: quote a value holding a comma, quote or line break; an unattributed group is empty.</summary>
    internal static string CsvField(string? value) =>
        value is null ? "" : value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

using Tollgate.Gateway.Admin;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Reports;

/// <summary>
/// <c>GET /admin/reports/overview?time_zone=&amp;top=</c>: the figures of the console's first page in one request, all
/// from the ledger and the refusal counts: spend today and this month (days and months in the chosen zone), the
/// month-end forecast, the top consumers (keys) of the month, what caching (the response cache and the providers' prompt
/// caches) and routing saved this month with the calls the response cache answered, and the refusals of the month by reason.
/// The forecast is <see cref="SpendForecast"/>'s.
/// </summary>
internal static class OverviewReport
{

    public static async Task<IResult> HandleAsync(HttpRequest http, UsageQuery query, RefusalLog refusals, KeyService keys, TimeProvider time)
    {
        var zoneName = http.Query["time_zone"].ToString() is { Length: > 0 } z ? z : "UTC";
        if (Periods.FindZone(zoneName) is not { } zone)
        {
            return AdminEndpoints.Invalid($"Unknown time zone '{zoneName}'.", "time_zone");
        }

        var top = 5;
        if (http.Query["top"].ToString() is { Length: > 0 } t && (!int.TryParse(t, out top) || top is < 1 or > 100))
        {
            return AdminEndpoints.Invalid("'top' must be a whole number from 1 to 100.", "top");
        }

        var cancel = http.HttpContext.RequestAborted;
        var now = time.GetUtcNow();
        var (dayStart, dayEnd) = Periods.Current("day", zone, now);
        var (monthStart, monthEnd) = Periods.Current("month", zone, now);
        // Periods run to their ends (nothing is recorded after now), so a call made this very millisecond counts.
        var today = Total(await query.RunAsync(dayStart, dayEnd, [], cancel));
        var month = Total(await query.RunAsync(monthStart, monthEnd, [], cancel));
        var (trendFrom, trendTo) = SpendForecast.TrendWindow(now);
        var trend = Total(await query.RunAsync(trendFrom, trendTo, [], cancel));
        var forecast = SpendForecast.Project(month.Cost, trend.Cost, now, monthEnd);

        var consumers = (await query.RunAsync(monthStart, monthEnd, [Scope.Key.Name], cancel))
            .OrderByDescending(r => (decimal)r["cost"]!).ThenBy(r => r[Scope.Key.Name] as string, StringComparer.Ordinal).Take(top)
            .Select(r => r[Scope.Key.Name] as string is { } id && keys.Get(id) is { } key
                ? new Consumer(id, key.Name, key.Owner.Team, (long)r["requests"]!, (decimal)r["cost"]!)
                : new Consumer(r[Scope.Key.Name] as string, null, null, (long)r["requests"]!, (decimal)r["cost"]!));

        var refused = (await refusals.TotalsAsync(monthStart, monthEnd, cancel)).Select(r => new Refusal(r.Code, r.Requests));
        return AdminEndpoints.Json(new Overview(
            zone.Id,
            new Period(dayStart, dayEnd, today.Requests, today.Cost),
            new MonthPeriod(monthStart, monthEnd, month.Requests, month.Cost, forecast),
            [.. consumers],
            new Savings(month.CacheSavings, month.RoutingSavings, month.ProviderCacheSavings, month.CacheHits),
            [.. refused]));
    }

    private static Figures Total(IReadOnlyList<Dictionary<string, object?>> rows) =>
        rows.Count == 0 ? default : new((long)rows[0]["requests"]!, (decimal)rows[0]["cost"]!, (decimal)rows[0]["cache_savings"]!, (decimal)rows[0]["routing_savings"]!,
            (decimal)rows[0]["provider_cache_savings"]!, (long)rows[0]["cache_hits"]!);

    private readonly record struct Figures(long Requests, decimal Cost, decimal CacheSavings, decimal RoutingSavings, decimal ProviderCacheSavings, long CacheHits);

    private sealed record Overview(string TimeZone, Period Today, MonthPeriod Month, Consumer[] TopConsumers, Savings Savings, Refusal[] Refusals);

    private sealed record Period(DateTimeOffset Start, DateTimeOffset End, long Requests, decimal Spend);

    private sealed record MonthPeriod(DateTimeOffset Start, DateTimeOffset End, long Requests, decimal Spend, decimal ForecastSpend);

    private sealed record Consumer(string? Key, string? Name, string? Team, long Requests, decimal Spend);

    /// <summary>The month's savings: the response cache's, routing's, the providers' prompt caches', and the calls the response cache answered.</summary>
    private sealed record Savings(decimal Cache, decimal Routing, decimal ProviderCache, long CacheHits);

    private sealed record Refusal(string Reason, long Requests);
}

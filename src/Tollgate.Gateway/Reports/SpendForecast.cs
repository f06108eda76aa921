namespace Tollgate.Gateway.Reports;

/// <summary>
/// Where spend is heading by the end of a period: the spend so far plus the average daily spend of the last 7 days ×
/// the days left. A fixed 7-day window keeps it steady on the first days of a period (a window clipped to the period
/// would extrapolate from minutes) and follows a change of trend within a week. One formula for the overview's month
/// and every budget.
/// </summary>
internal static class SpendForecast
{
    public const int TrendDays = 7;

    /// <summary>The instants whose spend is the trend: the last 7 days up to now.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) TrendWindow(DateTimeOffset now) => (now.AddDays(-TrendDays), now.AddSeconds(1));

    public static decimal Project(decimal spent, decimal trendCost, DateTimeOffset now, DateTimeOffset end) =>
        end <= now ? spent : Math.Round(spent + (trendCost / TrendDays * (decimal)(end - now).TotalDays), 10, MidpointRounding.ToEven);

    /// <summary>When the trend reaches <paramref name="hard"/> within the period; null when it does not (or already has).</summary>
    public static DateTimeOffset? ExhaustedAt(decimal spent, decimal? hard, decimal trendCost, DateTimeOffset now, DateTimeOffset end)
    {
        if (hard is not { } limit || spent >= limit || trendCost <= 0)
        {
            return null;
        }

        var days = (double)((limit - spent) / (trendCost / TrendDays));
        var at = now.AddDays(days);
        return at < end ? new DateTimeOffset(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero) : null;
    }
}

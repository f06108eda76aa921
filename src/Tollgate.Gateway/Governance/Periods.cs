using System.Collections.Concurrent;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Natural cycles in a time zone: a day from local midnight, a week from Monday midnight, a month from the 1st.
/// Boundaries are computed as local wall-clock times and converted to UTC, so a 23- or 25-hour DST day is one day.
/// </summary>
internal static class Periods
{
    public static readonly string[] Names = ["day", "week", "month", "total"];

    public static bool IsValid(string? period, bool allowTotal) => period is "day" or "week" or "month" || (allowTotal && period == "total");

    // FindSystemTimeZoneById takes a global lock and stats the zone file on every call; zones do not change while we run.
    private static readonly ConcurrentDictionary<string, TimeZoneInfo?> Zones = new(StringComparer.Ordinal);

    public static TimeZoneInfo? FindZone(string? id) => Zones.GetOrAdd(id ?? "UTC", static id =>
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    });

    /// <summary>The period containing <paramref name="now"/>: [start, end). "total" never ends.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) Current(string period, TimeZoneInfo zone, DateTimeOffset now)
    {
        if (period == "total")
        {
            return (DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue);
        }

        var local = TimeZoneInfo.ConvertTime(now, zone).DateTime.Date;
        var start = period switch
        {
            "week" => local.AddDays(-(((int)local.DayOfWeek + 6) % 7)),
            "month" => new DateTime(local.Year, local.Month, 1, 0, 0, 0, DateTimeKind.Unspecified),
            _ => local,
        };
        var end = period switch
        {
            "week" => start.AddDays(7),
            "month" => start.AddMonths(1),
            _ => start.AddDays(1),
        };
        return (ToUtc(start, zone), ToUtc(end, zone));
    }

    /// <summary>Local midnight as an instant; where a DST jump skips midnight, the first valid minute after it.</summary>
    private static DateTimeOffset ToUtc(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }

        // An ambiguous midnight (clocks fall back over it) starts at its first occurrence.
        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    /// <summary>Whole seconds until <paramref name="end"/>, at least 1 (for Retry-After).</summary>
    public static long SecondsUntil(DateTimeOffset end, DateTimeOffset now) =>
        end == DateTimeOffset.MaxValue ? 86_400 : Math.Max(1, (long)Math.Ceiling((end - now).TotalSeconds));
}

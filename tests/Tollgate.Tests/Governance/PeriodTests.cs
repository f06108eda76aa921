using Tollgate.Gateway.Governance;

namespace Tollgate.Tests.Unit;

public sealed class PeriodTests
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    [Fact]
    public void A_shanghai_day_starts_at_local_midnight_which_is_16_00_utc()
    {
        var (start, end) = Periods.Current("day", Shanghai, DateTimeOffset.Parse("2026-11-24T15:59:59Z"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T16:00:00Z"), start);
        Assert.Equal(DateTimeOffset.Parse("2026-11-24T16:00:00Z"), end);

        // One second later it is already tomorrow in Shanghai.
        Assert.Equal(end, Periods.Current("day", Shanghai, DateTimeOffset.Parse("2026-11-24T16:00:00Z")).Start);
    }

    [Theory]
    [InlineData("2026-03-08T12:00:00Z", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", 23)] // spring forward
    [InlineData("2026-11-01T12:00:00Z", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", 25)] // fall back
    public void Dst_days_are_23_or_25_hours_long(string now, string start, string end, int hours)
    {
        var (s, e) = Periods.Current("day", NewYork, DateTimeOffset.Parse(now));

        Assert.Equal(DateTimeOffset.Parse(start), s);
        Assert.Equal(DateTimeOffset.Parse(end), e);
        Assert.Equal(hours, (e - s).TotalHours);
    }

    [Fact]
    public void Weeks_start_on_monday()
    {
        // Sunday 2026-11-29 23:30 in Shanghai belongs to the week of Monday 2026-11-23.
        var (start, end) = Periods.Current("week", Shanghai, DateTimeOffset.Parse("2026-11-29T15:30:00Z"));

        Assert.Equal(DateTimeOffset.Parse("2026-11-22T16:00:00Z"), start);
        Assert.Equal(DateTimeOffset.Parse("2026-11-29T16:00:00Z"), end);
    }

    [Fact]
    public void Months_end_at_the_first_of_the_next_month_and_february_knows_leap_years()
    {
        var (start, end) = Periods.Current("month", TimeZoneInfo.Utc, DateTimeOffset.Parse("2028-02-29T23:59:59Z"));
        Assert.Equal(DateTimeOffset.Parse("2028-02-01T00:00:00Z"), start);
        Assert.Equal(DateTimeOffset.Parse("2028-03-01T00:00:00Z"), end);

        var december = Periods.Current("month", Shanghai, DateTimeOffset.Parse("2026-12-31T16:30:00Z")); // already January 1st in Shanghai
        Assert.Equal(DateTimeOffset.Parse("2026-12-31T16:00:00Z"), december.Start);
    }

    [Fact]
    public void A_leap_day_is_a_day_of_its_own()
    {
        var (start, end) = Periods.Current("day", TimeZoneInfo.Utc, DateTimeOffset.Parse("2028-02-29T12:00:00Z"));

        Assert.Equal(DateTimeOffset.Parse("2028-02-29T00:00:00Z"), start);
        Assert.Equal(DateTimeOffset.Parse("2028-03-01T00:00:00Z"), end);
    }
}

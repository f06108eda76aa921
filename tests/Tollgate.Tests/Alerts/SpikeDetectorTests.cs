using Tollgate.Gateway.Alerts;

namespace Tollgate.Tests.Unit;

public sealed class SpikeDetectorTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-24T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Spend_in_the_last_five_minutes_above_three_times_the_trailing_average_is_a_spike()
    {
        var detector = new SpikeDetector();
        // Steady: 100 units a minute for 55 minutes, about 500 per 5 minutes.
        for (var minute = 0; minute < 55; minute++)
        {
            Assert.Null(detector.Add("key:a", 100, 3m, Start.AddMinutes(minute)));
        }

        // Quiet, then minute 60: 1400 against 3 × (5400 / 11) ≈ 1473 is no spike; 200 more a minute later is one.
        Assert.Null(detector.Add("key:a", 1400, 3m, Start.AddMinutes(60)));
        var spike = detector.Add("key:a", 200, 3m, Start.AddMinutes(61));

        Assert.NotNull(spike);
        Assert.True(spike.Value.Recent > 3 * spike.Value.Average);
    }

    [Fact]
    public void A_first_spend_without_history_is_not_a_spike()
    {
        var detector = new SpikeDetector();

        Assert.Null(detector.Add("team:x", 1_000_000, 3m, Start));
    }
}

namespace Tollgate.Gateway.Alerts;

/// <summary>
/// Spend per minute over the last hour for each key and team: a spike is the last 5 minutes' spend above
/// <c>factor</c> × the average 5 minutes of the 55 minutes before them. A subject needs an hour of history (and some
/// spend in it) before it can spike, so a new key ramping up is not an alert.
/// </summary>
internal sealed class SpikeDetector
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long[] Minutes, long[] Costs, long FirstMinute)> _series = new(StringComparer.Ordinal);

    /// <summary>Adds spend; returns (last 5 minutes, trailing 5-minute average) when that is a spike.</summary>
    public (decimal Recent, decimal Average)? Add(string subject, long costE10, decimal factor, DateTimeOffset now)
    {
        var minute = now.ToUnixTimeSeconds() / 60;
        lock (_lock)
        {
            if (!_series.TryGetValue(subject, out var s))
            {
                _series[subject] = s = (new long[60], new long[60], minute);
            }

            var slot = (int)(minute % 60);
            if (s.Minutes[slot] != minute)
            {
                s.Minutes[slot] = minute;
                s.Costs[slot] = 0;
            }

            s.Costs[slot] += costE10;
            long recent = 0, earlier = 0;
            for (var i = 0; i < 60; i++)
            {
                var age = minute - s.Minutes[i];
                if (age < 5)
                {
                    recent += s.Costs[i];
                }
                else if (age < 60)
                {
                    earlier += s.Costs[i];
                }
            }

            var average = earlier / 11m;
            return minute - s.FirstMinute >= 60 && earlier > 0 && recent > factor * average ? (Ledger.Money.FromE10(recent), Ledger.Money.FromE10((long)average)) : null;
        }
    }
}

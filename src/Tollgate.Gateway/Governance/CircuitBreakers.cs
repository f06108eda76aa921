namespace Tollgate.Gateway.Governance;

/// <summary>
/// Cost-velocity circuit breakers: when the cost settled in the last 60 seconds passes <c>max_cost_per_minute</c>,
/// the circuit opens for the cool-down, then lets one request through (half-open) and closes again if the rate is
/// back under the limit. One-second buckets keep the 60-second sum exact to the second.
/// </summary>
internal sealed class CircuitBreakers(TimeSpan cooldown) : ICircuitStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);

    public ValueTask<(bool Allowed, TimeSpan RetryAfter, bool Probe)> EnterAsync(string key, DateTimeOffset now) => ValueTask.FromResult(Enter(key, now));

    public ValueTask ReleaseProbeAsync(string key)
    {
        ReleaseProbe(key);
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RecordAsync(string key, long costE10, long limitE10, bool probe, DateTimeOffset now) => ValueTask.FromResult(Record(key, costE10, limitE10, probe, now));

    private (bool Allowed, TimeSpan RetryAfter, bool Probe) Enter(string key, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_breakers.TryGetValue(key, out var b) || !b.Open)
            {
                return (true, TimeSpan.Zero, false);
            }

            if (now < b.OpenUntil)
            {
                return (false, b.OpenUntil - now, false);
            }

            if (b.ProbeOut)
            {
                return (false, TimeSpan.FromSeconds(1), false);
            }

            b.ProbeOut = true;
            return (true, TimeSpan.Zero, true);
        }
    }

    private void ReleaseProbe(string key)
    {
        lock (_lock)
        {
            if (_breakers.TryGetValue(key, out var b))
            {
                b.ProbeOut = false;
            }
        }
    }

    private bool Record(string key, long costE10, long limitE10, bool probe, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_breakers.TryGetValue(key, out var b))
            {
                _breakers[key] = b = new Breaker();
            }

            var second = now.ToUnixTimeSeconds();
            var slot = (int)(second % 60);
            if (b.Seconds[slot] != second)
            {
                b.Seconds[slot] = second;
                b.Costs[slot] = 0;
            }

            b.Costs[slot] += costE10;
            var sum = 0L;
            for (var i = 0; i < 60; i++)
            {
                if (b.Seconds[i] > second - 60)
                {
                    sum += b.Costs[i];
                }
            }

            if (probe)
            {
                b.ProbeOut = false;
                b.Open = sum > limitE10;
                b.OpenUntil = b.Open ? now + cooldown : b.OpenUntil;
                return b.Open;
            }

            if (!b.Open && sum > limitE10)
            {
                b.Open = true;
                b.OpenUntil = now + cooldown;
                return true;
            }

            return false;
        }
    }

    private sealed class Breaker
    {
        public long[] Seconds { get; } = new long[60];

        public long[] Costs { get; } = new long[60];

        public bool Open { get; set; }

        public DateTimeOffset OpenUntil { get; set; }

        public bool ProbeOut { get; set; }
    }
}

/// <summary>Where circuit-breaker state lives: in this process, or in Redis for every replica.</summary>
internal interface ICircuitStore
{
    /// <summary>Whether a request may pass; a half-open circuit admits exactly one probe at a time.</summary>
    ValueTask<(bool Allowed, TimeSpan RetryAfter, bool Probe)> EnterAsync(string key, DateTimeOffset now);

    /// <summary>A probe that never reached the provider (refused by another limit) gives its turn back.</summary>
    ValueTask ReleaseProbeAsync(string key);

    /// <summary>Adds a settled cost; true when this opened the circuit.</summary>
    ValueTask<bool> RecordAsync(string key, long costE10, long limitE10, bool probe, DateTimeOffset now);
}

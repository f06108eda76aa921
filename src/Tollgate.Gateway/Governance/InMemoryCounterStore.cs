namespace Tollgate.Gateway.Governance;

/// <summary>
/// Counters in this process, under one lock: a reservation checks and books every line as one step, which is what
/// makes budgets exact under concurrency. The lock is held for microseconds and never across an await.
/// </summary>
internal sealed class InMemoryCounterStore : ICounterStore
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _counters = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep;

    public ValueTask<ReserveOutcome> ReserveAsync(IReadOnlyList<CounterCharge> charges, DateTimeOffset now)
    {
        var rates = new List<RateState>();
        lock (_lock)
        {
            Sweep(now);
            for (var i = 0; i < charges.Count; i++)
            {
                var c = charges[i];
                var value = Value(c.Key, c.Kind, now);
                if (c.Kind == CounterKind.Total)
                {
                    if (value + c.Amount > c.Limit)
                    {
                        return ValueTask.FromResult(Refuse(charges, i, c.ExpiresAt == DateTimeOffset.MaxValue ? TimeSpan.FromDays(1) : c.ExpiresAt - now, now));
                    }
                }
                else
                {
                    // GCRA: the theoretical arrival time may run at most one window ahead of now.
                    var tat = Math.Max(value, now.UtcTicks);
                    var newTat = tat + Emission(c.Amount, c.Limit);
                    if (newTat - now.UtcTicks > Window.Ticks)
                    {
                        return ValueTask.FromResult(Refuse(charges, i, TimeSpan.FromTicks(newTat - now.UtcTicks - Window.Ticks), now));
                    }
                }
            }

            for (var i = 0; i < charges.Count; i++)
            {
                var c = charges[i];
                if (c.Kind == CounterKind.Total)
                {
                    Add(c.Key, c.Amount, c.ExpiresAt);
                }
                else
                {
                    var tat = Math.Max(Value(c.Key, c.Kind, now), now.UtcTicks) + Emission(c.Amount, c.Limit);
                    _counters[c.Key] = new Entry(tat, now + Window + Window);
                    rates.Add(State(c.Limit, tat, now));
                }
            }
        }

        return ValueTask.FromResult(ReserveOutcome.Ok([.. rates]));
    }

    public ValueTask SettleAsync(IReadOnlyList<CounterCharge> charges, IReadOnlyList<long> actual, DateTimeOffset now)
    {
        lock (_lock)
        {
            for (var i = 0; i < charges.Count; i++)
            {
                var c = charges[i];
                var delta = actual[i] - c.Amount;
                if (delta == 0)
                {
                    continue;
                }

                if (c.Kind == CounterKind.Total)
                {
                    Add(c.Key, delta, c.ExpiresAt);
                }
                else if (_counters.TryGetValue(c.Key, out var e))
                {
                    _counters[c.Key] = e with { Value = e.Value + (delta < 0 ? -Emission(-delta, c.Limit) : Emission(delta, c.Limit)) };
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask AddAsync(IReadOnlyList<(string Key, long Amount, DateTimeOffset ExpiresAt)> additions, DateTimeOffset now)
    {
        lock (_lock)
        {
            foreach (var (key, amount, expiresAt) in additions)
            {
                Add(key, amount, expiresAt);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask InitializeAsync(string key, long value, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (!_counters.TryGetValue(key, out var e) || e.ExpiresAt <= now)
            {
                _counters[key] = new Entry(value, expiresAt);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<long> GetAsync(string key, DateTimeOffset now)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_counters.TryGetValue(key, out var e) && e.ExpiresAt > now ? e.Value : 0);
        }
    }

    public ValueTask DeleteAsync(string key)
    {
        lock (_lock)
        {
            _counters.Remove(key);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A refusal with the rate lines as they stand (nothing booked), so a 429 carries the same rate-limit headers as a
    /// served call; the line that refused has nothing remaining. Called under the lock.
    /// </summary>
    private ReserveOutcome Refuse(IReadOnlyList<CounterCharge> charges, int failed, TimeSpan retryAfter, DateTimeOffset now)
    {
        var rates = new List<RateState>();
        for (var i = 0; i < charges.Count; i++)
        {
            var c = charges[i];
            if (c.Kind == CounterKind.Rate)
            {
                var state = State(c.Limit, Math.Max(Value(c.Key, c.Kind, now), now.UtcTicks), now);
                rates.Add(i == failed ? state with { Remaining = 0 } : state);
            }
        }

        return ReserveOutcome.Refused(failed, retryAfter, [.. rates]);
    }

    /// <summary>A GCRA counter's remaining allowance and the time until it is whole again.</summary>
    private static RateState State(long limit, long tat, DateTimeOffset now)
    {
        var free = Math.Max(0, Window.Ticks - (tat - now.UtcTicks));
        return new RateState(limit, (long)((Int128)free * limit / Window.Ticks), TimeSpan.FromTicks(tat - now.UtcTicks));
    }

    /// <summary>How far <paramref name="amount"/> units push the arrival time: amount × window / limit, without overflow.</summary>
    private static long Emission(long amount, long limit) => (long)((Int128)amount * Window.Ticks / Math.Max(1, limit));

    private long Value(string key, CounterKind kind, DateTimeOffset now) =>
        _counters.TryGetValue(key, out var e) && e.ExpiresAt > now ? e.Value : kind == CounterKind.Rate ? now.UtcTicks : 0;

    private void Add(string key, long amount, DateTimeOffset expiresAt)
    {
        _counters[key] = _counters.TryGetValue(key, out var e) ? e with { Value = e.Value + amount } : new Entry(amount, expiresAt);
    }

    /// <summary>Drops counters of past periods, once a minute at most.</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now.AddMinutes(1);
        foreach (var (key, entry) in _counters)
        {
            if (entry.ExpiresAt <= now)
            {
                _counters.Remove(key);
            }
        }
    }

    private readonly record struct Entry(long Value, DateTimeOffset ExpiresAt);
}

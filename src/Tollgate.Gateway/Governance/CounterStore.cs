namespace Tollgate.Gateway.Governance;

/// <summary>How a counter limits: a running total for a period, or a GCRA rate over a 60-second window.</summary>
internal enum CounterKind
{
    /// <summary>Tokens or money (1e-10 units) used in a period; the key names the period, <see cref="CounterCharge.ExpiresAt"/> ends it.</summary>
    Total,

    /// <summary>Requests or tokens per minute (GCRA: one "theoretical arrival time" per counter).</summary>
    Rate,
}

/// <summary>One line of a reservation: add <see cref="Amount"/> to <see cref="Key"/> if it stays within <see cref="Limit"/>.</summary>
internal readonly record struct CounterCharge(string Key, CounterKind Kind, long Amount, long Limit, DateTimeOffset ExpiresAt);

/// <summary>What a rate counter looks like after a reservation (for the x-ratelimit-* headers) or why it refused.</summary>
internal readonly record struct RateState(long Limit, long Remaining, TimeSpan Reset);

/// <summary>
/// The result of an all-or-nothing reservation, with the state of every rate line (in line order): after the booking
/// when accepted, as it stands when refused (the refusing line at zero remaining).
/// </summary>
internal readonly record struct ReserveOutcome(bool Accepted, int FailedLine, TimeSpan RetryAfter, RateState[] Rates)
{
    public static ReserveOutcome Ok(RateState[] rates) => new(true, -1, TimeSpan.Zero, rates);

    public static ReserveOutcome Refused(int line, TimeSpan retryAfter, RateState[] rates) => new(false, line, retryAfter, rates);
}

/// <summary>
/// Every governance counter (quota cycles, budgets, RPM/TPM) behind one interface: reserve several lines at once,
/// all or nothing; later settle each line by the difference between the actual and the reserved amount.
/// In-process today; a Redis implementation runs the same check-and-reserve as one Lua script.
/// </summary>
internal interface ICounterStore
{
    ValueTask<ReserveOutcome> ReserveAsync(IReadOnlyList<CounterCharge> charges, DateTimeOffset now);

    /// <summary>Adds <c>actual[i] − charges[i].Amount</c> to each line (releases what was reserved but not used).</summary>
    ValueTask SettleAsync(IReadOnlyList<CounterCharge> charges, IReadOnlyList<long> actual, DateTimeOffset now);

    /// <summary>Adds to counters without a limit check (figures kept for reports, such as a quota's input/output split).</summary>
    ValueTask AddAsync(IReadOnlyList<(string Key, long Amount, DateTimeOffset ExpiresAt)> additions, DateTimeOffset now);

    /// <summary>Sets a counter only if it does not exist yet (rebuilding from the ledger never overwrites live counters).</summary>
    ValueTask InitializeAsync(string key, long value, DateTimeOffset expiresAt, DateTimeOffset now);

    ValueTask<long> GetAsync(string key, DateTimeOffset now);

    ValueTask DeleteAsync(string key);
}

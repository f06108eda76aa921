using Tollgate.Gateway.Governance;

namespace Tollgate.Tests.Unit;

/// <summary>The same counter semantics in process and in Redis (a real redis-server, started by test.sh).</summary>
public sealed class CounterStoreTests
{
    public static TheoryData<string> Stores => new() { "memory", "redis" };

    private static ICounterStore Create(string kind) => kind == "memory"
        ? new InMemoryCounterStore()
        : new RedisCounterStore(Infrastructure.TestRedis.Connection, "test:" + Guid.NewGuid().ToString("N") + ":");

    // Real time: Redis expires keys by its own clock.
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    private static readonly DateTimeOffset End = Now.AddHours(1);

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_reservation_is_all_or_nothing(string kind)
    {
        var store = Create(kind);
        CounterCharge[] both = [new("a", CounterKind.Total, 60, 100, End), new("b", CounterKind.Total, 60, 100, End)];
        await store.AddAsync([("b", 50, End)], Now);

        var outcome = await store.ReserveAsync(both, Now);

        Assert.False(outcome.Accepted);
        Assert.Equal(1, outcome.FailedLine);
        Assert.Equal(0, await store.GetAsync("a", Now)); // nothing booked on the line that fitted
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Settling_replaces_the_reservation_with_the_actual_amount(string kind)
    {
        var store = Create(kind);
        CounterCharge[] charge = [new("a", CounterKind.Total, 80, 100, End)];
        Assert.True((await store.ReserveAsync(charge, Now)).Accepted);
        Assert.False((await store.ReserveAsync(charge, Now)).Accepted);

        await store.SettleAsync(charge, [15], Now);

        Assert.Equal(15, await store.GetAsync("a", Now));
        Assert.True((await store.ReserveAsync(charge, Now)).Accepted);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Gcra_allows_the_limit_per_minute_and_frees_one_slot_per_interval(string kind)
    {
        var store = Create(kind);
        CounterCharge[] request = [new("rpm", CounterKind.Rate, 1, 60, DateTimeOffset.MaxValue)];
        for (var i = 0; i < 60; i++)
        {
            Assert.True((await store.ReserveAsync(request, Now)).Accepted);
        }

        var refused = await store.ReserveAsync(request, Now);
        Assert.False(refused.Accepted);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.True((await store.ReserveAsync(request, Now.AddSeconds(1))).Accepted);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Rate_limits_far_above_the_clock_resolution_neither_overflow_nor_divide_by_zero(string kind)
    {
        var store = Create(kind);
        CounterCharge[] huge = [new("tpm", CounterKind.Rate, 5_000, 1_000_000_000_000, DateTimeOffset.MaxValue)];

        var outcome = await store.ReserveAsync(huge, Now);
        await store.SettleAsync(huge, [20], Now);

        Assert.True(outcome.Accepted);
        Assert.InRange(outcome.Rates[0].Remaining, 999_999_990_000, 1_000_000_000_000);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Counters_of_a_past_period_are_gone(string kind)
    {
        var store = Create(kind);
        var soon = DateTimeOffset.UtcNow.AddMilliseconds(1500);
        await store.AddAsync([("a", 10, soon)], DateTimeOffset.UtcNow);
        Assert.Equal(10, await store.GetAsync("a", DateTimeOffset.UtcNow));

        await Task.Delay(soon - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300));

        Assert.Equal(0, await store.GetAsync("a", DateTimeOffset.UtcNow));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Initializing_from_the_ledger_never_overwrites_a_live_counter(string kind)
    {
        var store = Create(kind);
        await store.InitializeAsync("a", 40, End, Now);
        await store.InitializeAsync("a", 999, End, Now);

        Assert.Equal(40, await store.GetAsync("a", Now));
    }
}

using Tollgate.Gateway.Governance;

namespace Tollgate.Tests.Unit;

public sealed class CounterStoreTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-24T12:00:00Z");
    private static readonly DateTimeOffset End = Now.AddHours(1);

    [Fact]
    public async Task A_reservation_is_all_or_nothing()
    {
        var store = new InMemoryCounterStore();
        CounterCharge[] both = [new("a", CounterKind.Total, 60, 100, End), new("b", CounterKind.Total, 60, 100, End)];
        await store.AddAsync([("b", 50, End)], Now);

        var outcome = await store.ReserveAsync(both, Now);

        Assert.False(outcome.Accepted);
        Assert.Equal(1, outcome.FailedLine);
        Assert.Equal(0, await store.GetAsync("a", Now)); // nothing booked on the line that fitted
    }

    [Fact]
    public async Task Settling_replaces_the_reservation_with_the_actual_amount()
    {
        var store = new InMemoryCounterStore();
        CounterCharge[] charge = [new("a", CounterKind.Total, 80, 100, End)];
        Assert.True((await store.ReserveAsync(charge, Now)).Accepted);
        Assert.False((await store.ReserveAsync(charge, Now)).Accepted);

        await store.SettleAsync(charge, [15], Now);

        Assert.Equal(15, await store.GetAsync("a", Now));
        Assert.True((await store.ReserveAsync(charge, Now)).Accepted);
    }

    [Fact]
    public async Task Gcra_allows_the_limit_per_minute_and_frees_one_slot_per_interval()
    {
        var store = new InMemoryCounterStore();
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

    [Fact]
    public async Task Rate_limits_far_above_the_clock_resolution_neither_overflow_nor_divide_by_zero()
    {
        var store = new InMemoryCounterStore();
        CounterCharge[] huge = [new("tpm", CounterKind.Rate, 5_000, 1_000_000_000_000, DateTimeOffset.MaxValue)];

        var outcome = await store.ReserveAsync(huge, Now);
        await store.SettleAsync(huge, [20], Now);

        Assert.True(outcome.Accepted);
        Assert.InRange(outcome.Rates[0].Remaining, 999_999_990_000, 1_000_000_000_000);
    }

    [Fact]
    public async Task Counters_of_a_past_period_are_gone()
    {
        var store = new InMemoryCounterStore();
        await store.AddAsync([("a", 10, End)], Now);

        Assert.Equal(0, await store.GetAsync("a", End));
    }
}

using Tollgate.Gateway.Governance;

namespace Tollgate.Tests.Unit;

public sealed class CounterKeysTests
{
    [Fact]
    public void A_key_in_use_keeps_its_one_instance_while_dead_keys_turn_the_cache_over_and_it_stays_bounded()
    {
        var subject = "live-" + Guid.NewGuid().ToString("N");
        var live = CounterKeys.Join("rpm", "key", subject);
        var dead = Guid.NewGuid().ToString("N");

        // Three generations' worth of keys nobody asks for again (past periods), the live key asked for now and then.
        for (var i = 0; i < CounterKeys.GenerationSize * 3; i++)
        {
            CounterKeys.Join(i, "budget", "team", dead, "day");
            if (i % 1_000 == 0)
            {
                Assert.Same(live, CounterKeys.Join("rpm", "key", subject));
            }
        }

        // Two generations at most (other tests intern keys in parallel: a little slack).
        Assert.InRange(CounterKeys.Count, 1, (2 * CounterKeys.GenerationSize) + 5_000);
        Assert.Same(live, CounterKeys.Join("rpm", "key", subject));
    }

    [Fact]
    public void Key_formats_embed_the_period_start_so_a_new_period_has_a_new_counter()
    {
        var spec = new BudgetSpec("day");
        var monday = DateTimeOffset.Parse("2026-11-30T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal("budget:team:search:day:" + monday.ToUnixTimeSeconds(), CounterKeys.Budget("team", "search", spec, monday));
        Assert.NotEqual(CounterKeys.Budget("team", "search", spec, monday), CounterKeys.Budget("team", "search", spec, monday.AddDays(1)));
    }
}

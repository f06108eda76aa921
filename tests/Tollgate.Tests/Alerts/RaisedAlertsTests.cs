using Tollgate.Gateway.Alerts;

namespace Tollgate.Tests.Unit;

public sealed class RaisedAlertsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-30T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_key_is_remembered_until_its_period_ends_then_forgotten()
    {
        var raised = new RaisedAlerts(capacity: 100);
        var periodEnd = Now.AddHours(14);

        Assert.True(raised.TryAdd("budget.exceeded:budget:team:a:day:1", periodEnd, Now));
        Assert.False(raised.TryAdd("budget.exceeded:budget:team:a:day:1", periodEnd, Now.AddHours(13)));
        Assert.True(raised.TryAdd("usage.spike:key:k:1", Now.AddHours(1), Now.AddHours(13)));

        // The next period: the old keys are dropped as soon as anything is raised.
        Assert.True(raised.TryAdd("budget.exceeded:budget:team:a:day:2", periodEnd.AddDays(1), periodEnd));
        Assert.Equal(1, raised.Count);
    }

    [Fact]
    public void Past_its_capacity_it_forgets_the_key_that_expires_soonest_and_never_grows()
    {
        var raised = new RaisedAlerts(capacity: 3);
        raised.TryAdd("month", Now.AddDays(20), Now);
        raised.TryAdd("hour", Now.AddHours(1), Now);
        raised.TryAdd("day", Now.AddHours(10), Now);

        Assert.True(raised.TryAdd("week", Now.AddDays(5), Now));

        Assert.Equal(3, raised.Count);
        Assert.False(raised.TryAdd("month", Now.AddDays(20), Now));
        Assert.False(raised.TryAdd("day", Now.AddHours(10), Now));
        Assert.True(raised.TryAdd("hour", Now.AddHours(1), Now)); // forgotten: the database's unique key still stops a second alert
    }

    [Fact]
    public void Keys_that_embed_an_instant_do_not_accumulate()
    {
        var raised = new RaisedAlerts(capacity: 1_000_000);
        for (var i = 0; i < 10_000; i++)
        {
            var at = Now.AddSeconds(i);
            Assert.True(raised.TryAdd("circuit.open:circuit:key:k:" + at.UtcTicks, at, at));
        }

        Assert.Equal(1, raised.Count);
    }
}

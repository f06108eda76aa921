using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Gateway.Alerts;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Line plans are looked up by (scope, subject), cached per key with the snapshot, and rebuilt when they go stale.</summary>
public sealed class LinePlannerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset BeforeMidnight = DateTimeOffset.Parse("2026-11-29T23:59:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private readonly (FakeTimeProvider Clock, GatewayHost Host) _gateway = Start(new FakeTimeProvider(BeforeMidnight));

    private FakeTimeProvider Clock => _gateway.Clock;

    private GatewayHost Host => _gateway.Host;

    private LinePlanner Planner => Host.Services.GetRequiredService<LinePlanner>();

    public Task InitializeAsync() => Host.InitializeAsync();

    public Task DisposeAsync() => Host.DisposeAsync();

    private static (FakeTimeProvider, GatewayHost) Start(FakeTimeProvider clock) => (clock, new GatewayHost(s => s.Redis = null, clock));

    [Fact]
    public async Task A_call_meets_only_its_own_groups_budgets_and_its_plan_is_reused_until_the_configuration_changes()
    {
        var (_, secret) = await Host.CreateKey(new { name = "planned", owner = new { team = "search" }, limits = new { rpm = 100 } });
        var key = Key(secret);
        await Host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = "other", period = "day", hard = 1 });
        var attribution = default(Attribution) with { Team = "search", User = "ann" };

        var first = Planner.For(key, attribution, "mock/echo", Clock.GetUtcNow());
        Assert.Same(first, Planner.For(key, attribution with { Feature = "chat" }, "mock/echo", Clock.GetUtcNow()));
        Assert.Equal(["rpm:key:" + key.Id], first.Lines.Select(l => l.Key));

        await Host.AdminJson(HttpMethod.Post, "/admin/budgets", new { scope = "user", subject = "ann", period = "day", hard = 1 });
        var second = Planner.For(key, attribution, "mock/echo", Clock.GetUtcNow());

        Assert.NotSame(first, second);
        Assert.Equal(["rpm", "budget:user:ann:day"], second.Lines.Select(l => l.Key.StartsWith("rpm", StringComparison.Ordinal) ? "rpm" : l.Key[..l.Key.LastIndexOf(':')]));
        Assert.NotSame(second, Planner.For(key, attribution with { User = "bob" }, "mock/echo", Clock.GetUtcNow()));
    }

    [Fact]
    public async Task An_edited_key_gets_a_new_plan()
    {
        var (id, secret) = await Host.CreateKey(new { name = "edited", limits = new { rpm = 100 } });
        var before = Planner.For(Key(secret), default, "mock/echo", Clock.GetUtcNow());

        await Host.AdminJson(HttpMethod.Patch, "/admin/keys/" + id, new { limits = new { rpm = 100, tpm = 1000 } });
        var after = Planner.For(Key(secret), default, "mock/echo", Clock.GetUtcNow());

        Assert.Single(before.Lines);
        Assert.Equal(2, after.Lines.Length);
    }

    [Fact]
    public async Task A_cached_plan_rolls_over_to_the_next_periods_counter_at_the_boundary()
    {
        var (_, secret) = await Host.CreateKey(new { name = "daily", budget = new { period = "day", hard = 10 } });
        var key = Key(secret);
        var today = Planner.For(key, default, "mock/echo", Clock.GetUtcNow());
        Assert.Same(today, Planner.For(key, default, "mock/echo", Clock.GetUtcNow().AddSeconds(59)));

        Clock.Advance(TimeSpan.FromMinutes(1));
        var tomorrow = Planner.For(key, default, "mock/echo", Clock.GetUtcNow());

        Assert.NotEqual(today.Lines[0].Key, tomorrow.Lines[0].Key);
        Assert.Equal(Clock.GetUtcNow(), tomorrow.Lines[0].Start);
    }

    [Fact]
    public async Task An_alert_forgotten_in_memory_is_still_stored_once()
    {
        var alerts = Host.Services.GetRequiredService<AlertService>();
        var marker = Guid.NewGuid().ToString("N");
        var data = new System.Text.Json.Nodes.JsonObject { ["marker"] = marker };

        // Forgotten at once (as past its period, or pushed out at capacity): the database's unique key still holds.
        alerts.Raise("budget.exceeded", "test:" + marker, data.DeepClone().AsObject(), DateTimeOffset.MinValue);
        await WaitForAlerts(marker, 1);
        alerts.Raise("budget.exceeded", "test:" + marker, data.DeepClone().AsObject(), DateTimeOffset.MinValue);
        alerts.Raise("budget.exceeded", "test:" + marker + ":after", new System.Text.Json.Nodes.JsonObject { ["marker"] = marker }, DateTimeOffset.MinValue);
        await WaitForAlerts(marker, 2); // the later alert is stored, so the repeat before it was handled

        Assert.InRange(alerts.RaisedCount, 0, 1); // each key forgotten by the next raise
    }

    private async Task WaitForAlerts(string marker, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var history = await Host.AdminJson(HttpMethod.Get, "/admin/alerts?type=budget.exceeded&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z");
            var found = history.EnumerateArray().Count(a => a.GetProperty("data").TryGetProperty("marker", out var m) && m.GetString() == marker);
            if (found >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, found);
                return;
            }

            await Task.Delay(50);
        }
    }

    private VirtualKey Key(string secret) => Host.Services.GetRequiredService<KeyService>().Authenticate(secret)!;
}

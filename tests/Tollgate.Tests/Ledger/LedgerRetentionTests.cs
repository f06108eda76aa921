using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Ledger;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>TOLLGATE_LEDGER_RETENTION_DAYS: raw records go, roll-ups stay, and reports of pruned time still add up.</summary>
public sealed class LedgerRetentionTests
{
    private const long Hour = 3_600_000;

    [Fact]
    public async Task Raw_records_past_the_retention_are_deleted_and_reports_of_that_time_come_from_the_rollups_by_whole_hours()
    {
        await using var host = new GatewayHost(s => s.LedgerRetentionDays = 30);
        await host.InitializeAsync();
        var now = DateTimeOffset.UtcNow;
        var old = LedgerSample.Records(400, now.AddDays(-40), TimeSpan.FromHours(30), seed: 21);
        var recent = LedgerSample.Records(100, now.AddDays(-2), TimeSpan.FromHours(10), seed: 22);
        var writer = host.Services.GetRequiredService<LedgerWriter>();
        foreach (var record in old.Concat(recent))
        {
            await writer.EnqueueAsync(record);
        }

        await writer.FlushAsync();

        Assert.Equal(400, await host.Services.GetRequiredService<LedgerRetention>().PruneAsync(CancellationToken.None));
        Assert.Equal(100, host.ReadRows("SELECT id FROM usage").Count);
        var mark = long.Parse(host.ReadRows("SELECT value FROM settings WHERE name = 'ledger_pruned_before'").Single().Text("value")!, CultureInfo.InvariantCulture);
        Assert.Equal(0, mark % Hour);
        Assert.InRange(now.AddDays(-30).ToUnixTimeMilliseconds() - mark, 0, Hour);

        // Every record still counts, by any dimension the roll-ups keep.
        foreach (var groupBy in new[] { "day", "key,model", "team,provider" })
        {
            string[] dimensions = groupBy.Split(',');
            Assert.Equal(LedgerSample.Expected([.. old, .. recent], DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, dimensions),
                LedgerSample.Actual(await host.AdminJson(HttpMethod.Get, $"/admin/usage?group_by={groupBy}"), dimensions));
        }

        // In pruned time a range's edges fall on the hours that start in it; after the cut-off they are exact.
        var (from, to) = (now.AddDays(-39.7).AddSeconds(17), now.AddDays(-39.1).AddSeconds(-23));
        Assert.Equal(LedgerSample.Expected(old, Ceiling(from), Ceiling(to), ["key"]),
            LedgerSample.Actual(await host.AdminJson(HttpMethod.Get, $"/admin/usage?from={Iso(from)}&to={Iso(to)}&group_by=key"), ["key"]));
        Assert.NotEqual(LedgerSample.Expected(old, from, to, ["key"]), LedgerSample.Expected(old, Ceiling(from), Ceiling(to), ["key"]));
        var (recentFrom, recentTo) = (now.AddDays(-2).AddMinutes(77), now.AddDays(-2).AddMinutes(333));
        Assert.Equal(LedgerSample.Expected(recent, recentFrom, recentTo, ["key"]),
            LedgerSample.Actual(await host.AdminJson(HttpMethod.Get, $"/admin/usage?from={Iso(recentFrom)}&to={Iso(recentTo)}&group_by=key"), ["key"]));

        // Sessions are not rolled up: only the records kept have them.
        Assert.Equal(LedgerSample.Expected(recent, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, ["session"]),
            LedgerSample.Actual(await host.AdminJson(HttpMethod.Get, "/admin/usage?group_by=session"), ["session"]));
    }

    private static DateTimeOffset Ceiling(DateTimeOffset instant) =>
        DateTimeOffset.FromUnixTimeMilliseconds((instant.ToUnixTimeMilliseconds() + Hour - 1) / Hour * Hour);

    private static string Iso(DateTimeOffset instant) => Uri.EscapeDataString(instant.ToString("O", CultureInfo.InvariantCulture));
}

using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Gateway.Storage;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The key list's last use: the latest record of each key, kept with the ledger and rebuilt from it.</summary>
public sealed class KeyLastUseTests
{
    [Fact]
    public async Task Keys_show_when_they_were_last_used_and_a_ledger_from_before_gets_it_at_start()
    {
        // Redis expires keys by its own clock; the fake clock needs the in-process counters.
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T09:00:00.250Z", CultureInfo.InvariantCulture));
        await using var host = new GatewayHost(s => s.Redis = null, clock);
        await host.InitializeAsync();
        var (usedId, used) = await host.CreateKey(new { name = "used" });
        var (idleId, _) = await host.CreateKey(new { name = "idle" });
        await Call(host, used);
        clock.Advance(TimeSpan.FromMinutes(90));
        await Call(host, used);
        await host.WaitForRecords(usedId, 2);
        var expected = DateTimeOffset.Parse("2026-11-30T10:30:00.250Z", CultureInfo.InvariantCulture);

        Assert.Equal(expected, await LastUsed(host, usedId));
        Assert.Null(await LastUsed(host, idleId));
        var single = await host.AdminJson(HttpMethod.Get, "/admin/keys/" + usedId);
        Assert.Equal(expected, single.GetProperty("last_used_at").GetDateTimeOffset());

        // A ledger from before the table: it is filled from the records when the schema is brought up to date.
        var db = host.Services.GetRequiredService<Database>();
        using (var connection = db.Open())
        using (var drop = connection.CreateCommand())
        {
            drop.CommandText = "DROP TABLE key_last_use";
            drop.ExecuteNonQuery();
        }

        db.Migrate();
        Assert.Equal(expected, await LastUsed(host, usedId));
    }

    private static async Task<DateTimeOffset?> LastUsed(GatewayHost host, string id)
    {
        var key = (await host.AdminJson(HttpMethod.Get, "/admin/keys")).EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        return key.TryGetProperty("last_used_at", out var at) ? at.GetDateTimeOffset() : null;
    }

    private static async Task Call(GatewayHost host, string key)
    {
        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

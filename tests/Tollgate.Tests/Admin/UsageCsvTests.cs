using System.Globalization;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>/admin/usage as the console reads it: total tokens, CSV of the same rows, days in the viewer's time zone.</summary>
public sealed class UsageCsvTests
{
    [Fact]
    public async Task Usage_rows_carry_total_tokens_and_come_as_csv_with_the_group_columns_first()
    {
        await using var host = new GatewayHost();
        await host.InitializeAsync();
        var (_, ml) = await host.CreateKey(new { name = "ml", owner = new { team = "ml, research" } });
        var (_, anonymous) = await host.CreateKey(new { name = "anon" });
        foreach (var key in new[] { ml, ml, anonymous })
        {
            using var call = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var rows = (await host.AdminJson(HttpMethod.Get, "/admin/usage?group_by=team")).EnumerateArray().ToList();
        Assert.All(rows, r => Assert.Equal(r.GetProperty("input_tokens").GetInt64() + r.GetProperty("output_tokens").GetInt64(), r.GetProperty("total_tokens").GetInt64()));

        using var response = await host.Admin(HttpMethod.Get, "/admin/usage?group_by=team&format=csv");
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal("team,requests,input_tokens,cached_tokens,cache_write_tokens,output_tokens,reasoning_tokens,total_tokens,cost,cache_savings,routing_savings,cache_hits,provider_cache_savings", lines[0]);
        // Groups sort with the unattributed (empty) team first; a name with a comma is quoted.
        Assert.Equal([",1,12,0,0,8,0,20,0.000028,0,0,0,0", "\"ml, research\",2,24,0,0,16,0,40,0.000056,0,0,0,0"], lines[1..]);

        using var bad = await host.Admin(HttpMethod.Get, "/admin/usage?format=xml");
        await ApiErrors.AssertError(bad, "/admin/usage?format=xml", 400, "invalid_request");
    }

    [Fact]
    public async Task Days_and_months_follow_the_time_zone_even_where_its_midnight_falls_inside_an_hour()
    {
        // Redis expires keys by its own clock; the fake clock needs the in-process counters.
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T18:15:00Z", CultureInfo.InvariantCulture));
        await using var host = new GatewayHost(s => s.Redis = null, clock);
        await host.InitializeAsync();
        var (_, key) = await host.CreateKey(new { name = "k" });
        foreach (var step in new[] { 0, 30, 8 * 60 })
        {
            clock.Advance(TimeSpan.FromMinutes(step)); // 18:15Z, 18:45Z, then 2026-12-01T02:45Z
            using var call = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        async Task<List<(string?, long)>> Days(string query) =>
            [.. (await host.AdminJson(HttpMethod.Get, "/admin/usage?" + query)).EnumerateArray()
                .Select(r => (r.GetProperty(query.Contains("month", StringComparison.Ordinal) ? "month" : "day").GetString(), r.GetProperty("requests").GetInt64()))];

        Assert.Equal([("2026-11-30", 2L), ("2026-12-01", 1L)], await Days("group_by=day"));
        // Berlin (+1): 19:15, 19:45 on the 30th; 03:45 on the 1st.
        Assert.Equal([("2026-11-30", 2L), ("2026-12-01", 1L)], await Days("group_by=day&time_zone=Europe/Berlin"));
        // Kolkata (+5:30): 23:45 on the 30th; 00:15 and 08:15 on the 1st, inside the hour 18:00Z–19:00Z.
        Assert.Equal([("2026-11-30", 1L), ("2026-12-01", 2L)], await Days("group_by=day&time_zone=Asia/Kolkata"));
        // Los Angeles (−8): every call on the 30th.
        Assert.Equal([("2026-11", 3L)], await Days("group_by=month&time_zone=America/Los_Angeles"));
        Assert.Equal([("2026-11", 1L), ("2026-12", 2L)], await Days("group_by=month&time_zone=Asia/Kolkata"));

        using var bad = await host.Admin(HttpMethod.Get, "/admin/usage?group_by=day&time_zone=Mars/Olympus");
        await ApiErrors.AssertError(bad, "/admin/usage?time_zone=Mars/Olympus", 400, "invalid_request");
    }
}

using System.Globalization;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ChargebackTests(GatewayHost host)
{
    [Fact]
    public async Task Chargeback_bills_each_team_for_the_month_exactly_as_the_ledger_has_it()
    {
        var team = "cb-" + Guid.NewGuid().ToString("N")[..8];
        var (_, key) = await host.CreateKey(new { name = "cb", owner = new { team } });
        for (var i = 0; i < 3; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("x-mock-cached-tokens", "4"), ("x-mock-reasoning-tokens", "2"));
            Assert.Equal(200, (int)response.StatusCode);
        }

        var month = DateTime.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var rows = await host.AdminJson(HttpMethod.Get, $"/admin/reports/chargeback?month={month}&by=team");
        var mine = rows.EnumerateArray().Single(r => r.GetProperty("team").GetString() == team);

        Assert.Equal(3, mine.GetProperty("requests").GetInt32());
        Assert.Equal(36, mine.GetProperty("input_tokens").GetInt32());
        Assert.Equal(12, mine.GetProperty("cached_tokens").GetInt32());
        Assert.Equal(24, mine.GetProperty("output_tokens").GetInt32());
        Assert.Equal(6, mine.GetProperty("reasoning_tokens").GetInt32());
        // per call: 8 uncached × 1.00 + 4 cached × 0.10 + 8 output × 2.00 = 24.4 per million
        Assert.Equal(3 * 0.0000244m, mine.GetProperty("cost").GetDecimal());
        Assert.Equal(0.0000244m, mine.GetProperty("cost_per_request").GetDecimal());

        using var csv = await host.Admin(HttpMethod.Get, $"/admin/reports/chargeback?month={month}&by=team&format=csv");
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("team,requests,input_tokens,cached_tokens,cache_write_tokens,output_tokens,reasoning_tokens,cost,cost_per_request", lines[0]);
        Assert.Contains($"{team},3,36,12,0,24,6,0.0000732,0.0000244", lines);
    }

    [Fact]
    public async Task A_month_without_calls_has_no_rows()
    {
        var rows = await host.AdminJson(HttpMethod.Get, "/admin/reports/chargeback?month=2001-01&by=project");

        Assert.Equal(0, rows.GetArrayLength());
    }

    [Theory]
    [InlineData("/admin/reports/chargeback?month=2026-13")]
    [InlineData("/admin/reports/chargeback?month=2026-11&by=planet")]
    [InlineData("/admin/reports/chargeback?month=2026-11&format=xml")]
    [InlineData("/admin/reports/chargeback?month=2026-11&time_zone=Mars/Olympus")]
    public async Task Bad_chargeback_queries_get_400(string path)
    {
        using var response = await host.Admin(HttpMethod.Get, path);

        Assert.Equal(400, (int)response.StatusCode);
    }
}

using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
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
        Assert.Equal("team,requests,input_tokens,cached_tokens,cache_write_tokens,output_tokens,reasoning_tokens,cost,cost_per_request,cache_savings,routing_savings,cache_hits,provider_cache_savings", lines[0]);
        // The provider cache savings of the cache reads are the pipeline's to record; the bill has what the ledger has.
        Assert.Contains(lines, l => l.StartsWith($"{team},3,36,12,0,24,6,0.0000732,0.0000244,0,0,0,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unit_economics_give_cost_per_request_and_per_million_tokens_for_each_customer_and_feature()
    {
        var customer = "ue-" + Guid.NewGuid().ToString("N")[..8];
        var (_, key) = await host.CreateKey(new { name = "ue", owner = new { customer } });
        var from = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O", CultureInfo.InvariantCulture);
        for (var i = 0; i < 2; i++)
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("X-Feature", customer + "-search"));
            Assert.Equal(200, (int)response.StatusCode);
        }

        var range = $"from={Uri.EscapeDataString(from)}";
        var byCustomer = (await host.AdminJson(HttpMethod.Get, $"/admin/reports/unit-economics?{range}&by=customer")).EnumerateArray().Single(r => r.GetProperty("customer").GetString() == customer);
        var byFeature = (await host.AdminJson(HttpMethod.Get, $"/admin/reports/unit-economics?{range}&by=feature")).EnumerateArray().Single(r => r.GetProperty("feature").GetString() == customer + "-search");

        foreach (var row in new[] { byCustomer, byFeature })
        {
            Assert.Equal(2, row.GetProperty("requests").GetInt32());
            Assert.Equal(0.000056m, row.GetProperty("cost").GetDecimal());
            Assert.Equal(0.000028m, row.GetProperty("cost_per_request").GetDecimal());
            Assert.Equal(1.4m, row.GetProperty("cost_per_million_tokens").GetDecimal()); // 0.000056 for 40 tokens
            Assert.Equal(12m, row.GetProperty("input_tokens_per_request").GetDecimal());
            Assert.Equal(8m, row.GetProperty("output_tokens_per_request").GetDecimal());
            Assert.Equal((0m, 0m, 0m), (row.GetProperty("cache_savings").GetDecimal(), row.GetProperty("routing_savings").GetDecimal(), row.GetProperty("savings_rate").GetDecimal()));
        }

        using var csv = await host.Admin(HttpMethod.Get, $"/admin/reports/unit-economics?{range}&by=customer&format=csv");
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("customer,requests,input_tokens,output_tokens,cost,cost_per_request,cost_per_million_tokens,input_tokens_per_request,output_tokens_per_request,cache_savings,routing_savings,savings_rate,cache_hits,provider_cache_savings", lines[0]);
        Assert.Contains($"{customer},2,24,16,0.000056,0.000028,1.4,12,8,0,0,0,0,0", lines);
    }

    [Fact]
    public async Task Savings_recorded_in_the_ledger_reach_the_chargeback_and_unit_economics_reports()
    {
        // Caching and routing do not exist yet; a record carrying savings stands in for what they will write.
        var customer = "sv-" + Guid.NewGuid().ToString("N")[..8];
        await host.Services.GetRequiredService<Gateway.Ledger.LedgerWriter>().EnqueueAsync(new Gateway.Ledger.UsageRecord
        {
            Id = Guid.CreateVersion7().ToString(),
            Timestamp = DateTimeOffset.UtcNow,
            Attribution = default(Gateway.Ledger.Attribution) with { Customer = customer },
            Operation = "chat",
            Provider = "mock",
            RequestedModel = "mock/echo",
            InputTokens = 12,
            OutputTokens = 8,
            Cost = 0.25m,
            CacheSavings = 0.5m,
            RoutingSavings = 0.25m,
            Status = 200,
        });

        var month = DateTime.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var bill = (await host.AdminJson(HttpMethod.Get, $"/admin/reports/chargeback?month={month}&by=customer")).EnumerateArray().Single(r => r.GetProperty("customer").GetString() == customer);
        var unit = (await host.AdminJson(HttpMethod.Get, "/admin/reports/unit-economics?by=customer")).EnumerateArray().Single(r => r.GetProperty("customer").GetString() == customer);

        Assert.Equal((0.5m, 0.25m), (bill.GetProperty("cache_savings").GetDecimal(), bill.GetProperty("routing_savings").GetDecimal()));
        Assert.Equal((0.5m, 0.25m), (unit.GetProperty("cache_savings").GetDecimal(), unit.GetProperty("routing_savings").GetDecimal()));
        Assert.Equal(0.75m, unit.GetProperty("savings_rate").GetDecimal()); // 0.75 saved of the 1.00 the call would have cost
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
    [InlineData("/admin/reports/unit-economics?by=planet")]
    [InlineData("/admin/reports/unit-economics?from=tuesday")]
    [InlineData("/admin/reports/unit-economics?format=xml")]
    public async Task Bad_chargeback_queries_get_400(string path)
    {
        using var response = await host.Admin(HttpMethod.Get, path);

        Assert.Equal(400, (int)response.StatusCode);
    }
}

using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Gateway.Ledger;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// The response cache's figures (calls it answered, what it and the providers' prompt caches saved) in every report and
/// in the cache statistics, from records written through the ledger writer as the pipeline will write them: the cache
/// itself is not needed to check that the reports count what the ledger holds.
/// </summary>
public sealed class CacheFiguresTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-10T12:00:00Z", CultureInfo.InvariantCulture);
    private readonly FakeTimeProvider _clock = new(Now);
    private readonly GatewayHost _host;

    public CacheFiguresTests() => _host = new GatewayHost(s => s.Redis = null, _clock);

    /// <summary>
    /// Team "cache": a provider call with cache reads (provider savings), its retry (attempt 2), an exact hit and a
    /// semantic hit (no tokens, no cost, what they saved); team "plain": one call without any cache.
    /// </summary>
    private static List<UsageRecord> Records()
    {
        UsageRecord Record(string team, string? hit = null, long input = 0, long cached = 0, long output = 0, decimal cost = 0m, decimal cacheSavings = 0m, decimal providerSavings = 0m, int attempt = 1) => new()
        {
            Id = Guid.CreateVersion7().ToString(),
            Timestamp = Now.AddHours(-1),
            Attribution = default(Attribution) with { Team = team, Customer = team + "-customer" },
            Operation = "chat",
            Provider = "mock",
            RequestedModel = "mock/echo",
            InputTokens = input,
            CachedTokens = cached,
            OutputTokens = output,
            Cost = cost,
            CacheHit = hit,
            CacheSavings = cacheSavings,
            ProviderCacheSavings = providerSavings,
            Attempt = attempt,
            Status = 200,
        };

        return
        [
            Record("cache", input: 12, cached: 4, output: 8, cost: 0.0000244m, providerSavings: 0.0000036m),
            Record("cache", attempt: 2, input: 12, output: 8, cost: 0.000028m),
            Record("cache", hit: "exact", cacheSavings: 0.000028m),
            Record("cache", hit: "semantic", cacheSavings: 0.0000244m),
            Record("plain", input: 12, output: 8, cost: 0.000028m),
        ];
    }

    public async Task InitializeAsync()
    {
        await _host.InitializeAsync();
        var writer = _host.Services.GetRequiredService<LedgerWriter>();
        foreach (var record in Records())
        {
            await writer.EnqueueAsync(record);
        }
    }

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Usage_counts_the_calls_the_cache_answered_and_sums_provider_cache_savings()
    {
        var rows = await _host.AdminJson(HttpMethod.Get, "/admin/usage?group_by=team");

        Assert.Equal([("cache", 4L, 2L, 0.0000036m, 0.0000524m, 0.0000524m), ("plain", 1L, 0L, 0m, 0m, 0.000028m)], rows.EnumerateArray().Select(r => (
            r.GetProperty("team").GetString(), r.GetProperty("requests").GetInt64(), r.GetProperty("cache_hits").GetInt64(),
            r.GetProperty("provider_cache_savings").GetDecimal(), r.GetProperty("cache_savings").GetDecimal(), r.GetProperty("cost").GetDecimal())));
        var csv = await Csv("/admin/usage?group_by=team&format=csv");
        Assert.Equal("team,requests,input_tokens,cached_tokens,cache_write_tokens,output_tokens,reasoning_tokens,total_tokens,cost,cache_savings,routing_savings,cache_hits,provider_cache_savings", csv[0]);
        Assert.Equal(["cache,4,24,4,0,16,0,40,0.0000524,0.0000524,0,2,0.0000036", "plain,1,12,0,0,8,0,20,0.000028,0,0,0,0"], csv[1..]);
    }

    [Fact]
    public async Task Chargeback_and_unit_economics_end_with_cache_hits_and_provider_cache_savings_in_json_and_csv()
    {
        var bill = Team(await _host.AdminJson(HttpMethod.Get, "/admin/reports/chargeback?month=2026-11&by=team"), "team", "cache");
        var unit = Team(await _host.AdminJson(HttpMethod.Get, "/admin/reports/unit-economics?by=customer"), "customer", "cache-customer");

        foreach (var row in new[] { bill, unit })
        {
            Assert.Equal((4L, 2L, 0.0000036m, 0.0000524m), (row.GetProperty("requests").GetInt64(), row.GetProperty("cache_hits").GetInt64(),
                row.GetProperty("provider_cache_savings").GetDecimal(), row.GetProperty("cache_savings").GetDecimal()));
        }

        // savings_rate keeps its meaning: what the response cache and routing saved of what the calls would have cost.
        Assert.Equal(0.5m, unit.GetProperty("savings_rate").GetDecimal()); // 0.0000524 saved of 0.0001048
        var billCsv = await Csv("/admin/reports/chargeback?month=2026-11&by=team&format=csv");
        Assert.Equal("team,requests,input_tokens,cached_tokens,cache_write_tokens,output_tokens,reasoning_tokens,cost,cost_per_request,cache_savings,routing_savings,cache_hits,provider_cache_savings", billCsv[0]);
        Assert.Equal(["cache,4,24,4,0,16,0,0.0000524,0.0000131,0.0000524,0,2,0.0000036", "plain,1,12,0,0,8,0,0.000028,0.000028,0,0,0,0"], billCsv[1..]);
        var unitCsv = await Csv("/admin/reports/unit-economics?by=team&format=csv");
        Assert.Equal("team,requests,input_tokens,output_tokens,cost,cost_per_request,cost_per_million_tokens,input_tokens_per_request,output_tokens_per_request,cache_savings,routing_savings,savings_rate,cache_hits,provider_cache_savings", unitCsv[0]);
        Assert.Equal("cache,4,24,16,0.0000524,0.0000131,1.31,6,4,0.0000524,0,0.5,2,0.0000036", unitCsv[1]);
    }

    [Fact]
    public async Task The_overview_shows_the_months_cache_hits_and_provider_cache_savings_beside_the_cache_savings()
    {
        var savings = (await _host.AdminJson(HttpMethod.Get, "/admin/reports/overview?time_zone=UTC")).GetProperty("savings");

        Assert.Equal((0.0000524m, 0m, 0.0000036m, 2L), (savings.GetProperty("cache").GetDecimal(), savings.GetProperty("routing").GetDecimal(),
            savings.GetProperty("provider_cache").GetDecimal(), savings.GetProperty("cache_hits").GetInt64()));
    }

    [Fact]
    public async Task Cache_stats_count_calls_not_attempts_and_every_call_the_cache_did_not_answer_as_a_miss()
    {
        var query = _host.Services.GetRequiredService<UsageQuery>();

        var stats = await query.CacheStatsAsync(Now.AddDays(-1), Now, CancellationToken.None);
        var empty = await query.CacheStatsAsync(Now.AddDays(-3), Now.AddDays(-2), CancellationToken.None);

        // 5 records, one of them a retry: 4 calls, 1 exact and 1 semantic hit, 2 misses.
        Assert.Equal(new CacheLedgerStats(4, 1, 1, 2, 0.5m, 0.0000524m, 0.0000036m), stats);
        Assert.Equal(new CacheLedgerStats(0, 0, 0, 0, 0m, 0m, 0m), empty);
        Assert.Equal("""{"requests":4,"exact_hits":1,"semantic_hits":1,"misses":2,"hit_rate":0.5,"cache_savings":0.0000524,"provider_cache_savings":0.0000036}""",
            JsonSerializer.Serialize(stats, Gateway.Storage.StoreJson.Options));
    }

    private static JsonElement Team(JsonElement rows, string by, string value) => rows.EnumerateArray().Single(r => r.GetProperty(by).GetString() == value);

    private async Task<string[]> Csv(string path)
    {
        using var response = await _host.Admin(HttpMethod.Get, path);
        return (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}

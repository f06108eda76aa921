using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Ledger;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// Reports read whole days and hours from the roll-ups and the minutes at a range's edges from the raw ledger: their
/// figures must be exactly what the records add up to, for any range, grouping and filter. One gateway (on the suite's
/// engine) holds a sample ledger written through the real ledger writer, and every answer is checked against the sums
/// computed here record by record.
/// </summary>
public sealed class RollupReportTests(RollupReportTests.SampleLedger ledger) : IClassFixture<RollupReportTests.SampleLedger>
{
    private readonly GatewayHost _host = ledger.Host;
    private readonly List<UsageRecord> _records = ledger.Records;

    public static TheoryData<string, string> Ranges => new()
    {
        { "aligned to days", "from=2025-01-31T00:00:00Z&to=2025-02-02T00:00:00Z" },
        { "aligned to hours", "from=2025-01-31T05:00:00Z&to=2025-02-01T07:00:00Z" },
        { "unaligned", "from=2025-01-30T21:17:03.250Z&to=2025-02-02T13:42:10.500Z" },
        { "inside one hour", "from=2025-01-31T10:05:00Z&to=2025-01-31T10:55:00Z" },
        { "across one hour boundary", "from=2025-01-31T10:30:00Z&to=2025-01-31T11:30:00Z" },
        { "a day in a zone half an hour off UTC", "from=2025-01-31T18:30:00Z&to=2025-02-01T18:30:00Z" },
        { "whole days with unaligned edges", "from=2025-01-30T23:59:59.999Z&to=2025-02-02T00:00:00.001Z" },
        { "empty", "from=2025-01-31T10:00:00Z&to=2025-01-31T10:00:00Z" },
        { "everything until now", "" },
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public async Task Usage_grouped_by_any_dimension_equals_the_raw_records_for_any_range(string range, string query)
    {
        var (from, to) = Bounds(query);
        string[][] groupings = [[], .. LedgerSample.Dimensions.Keys.Select(d => new[] { d }), ["day", "team"], ["month", "model"], ["key", "day", "provider"], ["session", "day"]];
        foreach (var groupBy in groupings)
        {
            var rows = await _host.AdminJson(HttpMethod.Get, $"/admin/usage?{query}&group_by={string.Join(',', groupBy)}");

            Assert.True(LedgerSample.Expected(_records, from, to, groupBy).SequenceEqual(LedgerSample.Actual(rows, groupBy)), $"{range}, group_by={string.Join(',', groupBy)}");
        }
    }

    [Theory]
    [InlineData("key=key_a", "day")]
    [InlineData("team=ml", "model")]
    [InlineData("user=bob&provider=other", "day,key")]
    [InlineData("model=mock/large&environment=prod", "team")]
    [InlineData("cost_center=cc1&customer=acme&agent=agent-1&feature=summary&project=p2", "")]
    [InlineData("session=s2", "key")]
    [InlineData("key=key_none", "day")]
    public async Task Usage_filtered_on_dimensions_equals_the_matching_raw_records(string filter, string groupBy)
    {
        var dimensions = groupBy.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var filters = filter.Split('&').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
        foreach (var query in new[] { "from=2025-01-30T21:17:03.250Z&to=2025-02-02T13:42:10.500Z", "" })
        {
            var (from, to) = Bounds(query);
            var rows = await _host.AdminJson(HttpMethod.Get, $"/admin/usage?{query}&{filter}&group_by={groupBy}");

            var expected = LedgerSample.Expected(_records, from, to, dimensions, filters);
            Assert.Equal(expected, LedgerSample.Actual(rows, dimensions));
            Assert.Equal(filter == "key=key_none", expected.Count == 0);
        }
    }

    [Fact]
    public async Task A_filter_given_twice_is_refused_and_unknown_parameters_are_ignored()
    {
        using var twice = await _host.Admin(HttpMethod.Get, "/admin/usage?team=ml&team=search");
        var ignored = await _host.AdminJson(HttpMethod.Get, "/admin/usage?planet=mars&team=&group_by=team");

        Assert.Equal(400, (int)twice.StatusCode);
        Assert.Equal(LedgerSample.Expected(_records, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, ["team"]), LedgerSample.Actual(ignored, ["team"]));
    }

    [Fact]
    public async Task A_chargeback_in_a_zone_half_an_hour_off_utc_bills_exactly_the_records_of_its_month()
    {
        // February 2025 in Asia/Kolkata (UTC+05:30) starts at 2025-01-31T18:30Z: inside an hour and a day of the roll-ups.
        var rows = await _host.AdminJson(HttpMethod.Get, "/admin/reports/chargeback?month=2025-02&by=team&time_zone=Asia/Kolkata");

        var expected = LedgerSample.Expected(_records, At("2025-01-31T18:30:00Z"), At("2025-02-28T18:30:00Z"), ["team"]);
        Assert.Equal(expected, LedgerSample.Actual(rows, ["team"]));
        Assert.Equal(3, expected.Count);
    }

    private static (DateTimeOffset From, DateTimeOffset To) Bounds(string query)
    {
        var parts = query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        return (parts.TryGetValue("from", out var f) ? At(f) : DateTimeOffset.UnixEpoch, parts.TryGetValue("to", out var t) ? At(t) : DateTimeOffset.MaxValue);
    }

    private static DateTimeOffset At(string instant) => DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>A gateway whose ledger holds 1 500 sample records over 80 hours from 2025-01-30T20:00Z, written through the ledger writer.</summary>
    public sealed class SampleLedger : IAsyncLifetime
    {
        public GatewayHost Host { get; } = new();

        internal List<UsageRecord> Records { get; } = LedgerSample.Records(1500, At("2025-01-30T20:00:00Z"), TimeSpan.FromHours(80), seed: 7);

        public async Task InitializeAsync()
        {
            await Host.InitializeAsync();
            var writer = Host.Services.GetRequiredService<LedgerWriter>();
            // Several batches, so buckets already in a roll-up get added to.
            foreach (var chunk in Records.Chunk(400))
            {
                foreach (var record in chunk)
                {
                    await writer.EnqueueAsync(record);
                }

                await writer.FlushAsync();
            }
        }

        public Task DisposeAsync() => Host.DisposeAsync();
    }
}

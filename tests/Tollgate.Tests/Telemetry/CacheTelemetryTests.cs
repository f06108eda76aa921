using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Telemetry;

namespace Tollgate.Tests;

/// <summary>
/// What a settled call's record tells telemetry about the response cache: the span's <c>tollgate.cache_hit</c> and its kind,
/// and the savings counters. The instruments are process-wide and other tests' gateways use them at the same time, so
/// each test picks out its own measurements and spans by a team and a request id of its own.
/// </summary>
public sealed class CacheTelemetryTests : IDisposable
{
    private static readonly Provider Mock = new("mock", ProviderKind.OpenAiCompatible, "http://127.0.0.1:9/v1", null, [], DateTimeOffset.UnixEpoch);

    private readonly string _team = "otel-" + Guid.NewGuid().ToString("N")[..8];
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;
    private readonly GatewayTelemetry _telemetry = new(new GatewaySettings());

    public CacheTelemetryTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == GatewayTelemetry.Name && instrument.Name.StartsWith("tollgate.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            if (copy.GetValueOrDefault("tollgate.team") as string == _team)
            {
                _measurements.Enqueue((instrument.Name, value, copy));
            }
        });
        _meters.Start();
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GatewayTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_activities);
    }

    [Theory]
    [InlineData("exact")]
    [InlineData("semantic")]
    public void A_cache_hit_is_a_span_with_cache_hit_true_and_its_kind_and_adds_its_savings_to_the_cache_savings_counter(string kind)
    {
        var record = Record(hit: kind, cacheSavings: 0.000028m);

        _telemetry.Record(record, Mock, "stop", new HeaderDictionary());

        var span = Span(record);
        Assert.Equal(true, span.GetTagItem("tollgate.cache_hit"));
        Assert.Equal(kind, span.GetTagItem("tollgate.cache_hit_kind"));
        Assert.Equal(0.000028, span.GetTagItem("tollgate.cache_savings"));
        Assert.Null(span.GetTagItem("tollgate.provider_cache_savings"));
        var saved = Assert.Single(_measurements);
        Assert.Equal("tollgate.cache.savings", saved.Instrument);
        Assert.Equal(0.000028, saved.Value, 12);
        Assert.Equal(("USD", kind, "chat", "echo", "cc-1"), ((string?)saved.Tags["tollgate.currency"], (string?)saved.Tags["tollgate.cache_hit_kind"],
            (string?)saved.Tags["gen_ai.operation.name"], (string?)saved.Tags["gen_ai.request.model"], (string?)saved.Tags["tollgate.cost_center"]));
    }

    [Fact]
    public void A_provider_call_is_no_cache_hit_and_adds_what_the_providers_prompt_cache_saved_to_its_own_counter()
    {
        var record = Record(hit: null, cost: 0.0000244m, providerSavings: 0.0000036m);

        _telemetry.Record(record, Mock, "stop", new HeaderDictionary());

        var span = Span(record);
        Assert.Equal(false, span.GetTagItem("tollgate.cache_hit"));
        Assert.Null(span.GetTagItem("tollgate.cache_hit_kind"));
        Assert.Equal(0.0000036, span.GetTagItem("tollgate.provider_cache_savings"));
        var measured = _measurements.ToDictionary(m => m.Instrument);
        Assert.Equal(["tollgate.cost", "tollgate.provider_cache.savings"], measured.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0.0000036, measured["tollgate.provider_cache.savings"].Value, 12);
        Assert.Equal("USD", measured["tollgate.provider_cache.savings"].Tags["tollgate.currency"]);
        Assert.False(measured["tollgate.provider_cache.savings"].Tags.ContainsKey("tollgate.cache_hit_kind"));
        Assert.Equal(0.0000244, measured["tollgate.cost"].Value, 12);
    }

    private UsageRecord Record(string? hit, decimal cost = 0m, decimal cacheSavings = 0m, decimal providerSavings = 0m) => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        Timestamp = DateTimeOffset.UtcNow,
        Attribution = default(Attribution) with { Team = _team, CostCenter = "cc-1" },
        Operation = "chat",
        Provider = "mock",
        RequestedModel = "mock/echo",
        ServedModel = "echo",
        Cost = cost,
        CacheHit = hit,
        CacheSavings = cacheSavings,
        ProviderCacheSavings = providerSavings,
        LatencyMs = 1,
        Status = 200,
    };

    private Activity Span(UsageRecord record) => Assert.Single(_spans, s => s.GetTagItem("tollgate.request_id") as string == record.Id);

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Telemetry;

/// <summary>
/// OpenTelemetry for every proxied call, following the GenAI semantic conventions: one client span
/// (<c>{gen_ai.operation.name} {gen_ai.request.model}</c>) and the <c>gen_ai.client.*</c> metrics, plus Tollgate's own
/// <c>tollgate.cost</c>, <c>tollgate.cache.savings</c>, <c>tollgate.provider_cache.savings</c> and <c>tollgate.rejections</c>. Everything is derived from the call's usage record, once, when
/// the call is settled, so telemetry and the ledger cannot disagree.
/// </summary>
internal sealed class GatewayTelemetry(GatewaySettings settings)
{
    public const string Name = "Tollgate";

    public static readonly ActivitySource Source = new(Name, typeof(GatewayTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Meter Meter = new(Name, typeof(GatewayTelemetry).Assembly.GetName().Version?.ToString());

    // Bucket boundaries from the semantic conventions for these two instruments.
    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] });

    private static readonly Histogram<double> Duration = Meter.CreateHistogram("gen_ai.client.operation.duration", "s", "GenAI operation duration.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] });

    private static readonly Counter<double> Cost = Meter.CreateCounter<double>("tollgate.cost", null, "Cost of calls from the price catalog, in tollgate.currency.");

    private static readonly Counter<double> CacheSavings = Meter.CreateCounter<double>("tollgate.cache.savings", null,
        "What the response cache saved: the provider price of the calls (or embedding inputs) it answered, in tollgate.currency.");

    private static readonly Counter<double> ProviderCacheSavings = Meter.CreateCounter<double>("tollgate.provider_cache.savings", null,
        "What the providers' prompt caches saved: cache reads × (input price − cached input price), in tollgate.currency.");

    private static readonly Counter<long> Rejections = Meter.CreateCounter<long>("tollgate.rejections", "{request}", "Requests the gateway answered with an error of its own, by error.type (the Tollgate error code).");

    /// <summary>A request refused or failed by the gateway itself (not a provider's answer).</summary>
    public static void Rejected(string code) => Rejections.Add(1, new KeyValuePair<string, object?>("error.type", code));

    /// <summary>Span and metrics of one settled call. <paramref name="headers"/> may carry the caller's W3C trace context.</summary>
    public void Record(UsageRecord record, Provider provider, string? finishReason, IHeaderDictionary headers)
    {
        var model = record.RequestedModel.Length > provider.Name.Length ? record.RequestedModel[(provider.Name.Length + 1)..] : record.RequestedModel;
        var (address, port) = Server(provider);
        var providerName = ProviderName(provider);
        var tags = new TagList
        {
            { "gen_ai.operation.name", record.Operation },
            { "gen_ai.provider.name", providerName },
            { "gen_ai.request.model", model },
            { "server.address", address },
            { "server.port", port },
        };
        if (record.ServedModel is { } served)
        {
            tags.Add("gen_ai.response.model", served);
        }

        var duration = tags;
        if (record.ErrorClass is { } error)
        {
            duration.Add("error.type", error);
        }

        Duration.Record(record.LatencyMs / 1000, duration);
        var owner = tags;
        AddIfSet(ref owner, "tollgate.team", record.Attribution.Team);
        AddIfSet(ref owner, "tollgate.project", record.Attribution.Project);
        // A call that consumed nothing (refused connection, provider error) records no tokens and no cost: the
        // conventions ask for billable tokens, and a zero would count as a measurement in every histogram bucket.
        if (record.InputTokens > 0 || record.OutputTokens > 0)
        {
            var input = owner;
            input.Add("gen_ai.token.type", "input");
            TokenUsage.Record(record.InputTokens, input);
            var output = owner;
            output.Add("gen_ai.token.type", "output");
            TokenUsage.Record(record.OutputTokens, output);
        }

        if (record.Cost != 0 || record.CacheSavings != 0 || record.ProviderCacheSavings != 0)
        {
            // The money counters: the cost and what caches saved, each only when not zero (a zero adds a series and nothing else).
            AddIfSet(ref owner, "tollgate.cost_center", record.Attribution.CostCenter);
            owner.Add("tollgate.currency", record.Currency);
            if (record.Cost != 0)
            {
                Cost.Add((double)record.Cost, owner);
            }

            if (record.ProviderCacheSavings != 0)
            {
                ProviderCacheSavings.Add((double)record.ProviderCacheSavings, owner);
            }

            if (record.CacheSavings != 0)
            {
                AddIfSet(ref owner, "tollgate.cache_hit_kind", record.CacheHit);
                CacheSavings.Add((double)record.CacheSavings, owner);
            }
        }

        if (Source.HasListeners())
        {
            Span(record, model, providerName, address, port, finishReason, headers);
        }
    }

    private void Span(UsageRecord record, string model, string providerName, string address, int port, string? finishReason, IHeaderDictionary headers)
    {
        ActivityContext.TryParse(headers["traceparent"], headers["tracestate"], isRemote: true, out var parent);
        using var span = Source.StartActivity(record.Operation + " " + model, ActivityKind.Client, parent, startTime: record.Timestamp);
        if (span is null)
        {
            return;
        }

        span.SetTag("gen_ai.operation.name", record.Operation);
        span.SetTag("gen_ai.provider.name", providerName);
        span.SetTag("gen_ai.request.model", model);
        if (record.Stream)
        {
            span.SetTag("gen_ai.request.stream", true); // conditionally required: set when the call streamed
        }

        span.SetTag("gen_ai.response.model", record.ServedModel);
        span.SetTag("gen_ai.response.id", record.ResponseId);
        span.SetTag("gen_ai.usage.input_tokens", record.InputTokens);
        span.SetTag("gen_ai.usage.output_tokens", record.OutputTokens);
        if (finishReason is not null)
        {
            span.SetTag("gen_ai.response.finish_reasons", new[] { finishReason });
        }

        span.SetTag("server.address", address);
        span.SetTag("server.port", port);
        span.SetTag("http.response.status_code", record.Status);
        span.SetTag("tollgate.provider", record.Provider);
        span.SetTag("tollgate.request_id", record.RequestId ?? record.Id);
        if (record.Route is { } route)
        {
            // One span per attempt of a routed call, linked by the request id.
            span.SetTag("tollgate.route", route);
            span.SetTag("tollgate.attempt", record.Attempt);
            span.SetTag("tollgate.routing_reason", record.RoutingReason);
            span.SetTag("tollgate.routing_savings", (double)record.RoutingSavings);
        }

        span.SetTag("tollgate.team", record.Attribution.Team);
        span.SetTag("tollgate.project", record.Attribution.Project);
        span.SetTag("tollgate.cost_center", record.Attribution.CostCenter);
        span.SetTag("tollgate.cost", (double)record.Cost);
        span.SetTag("tollgate.currency", record.Currency);
        span.SetTag("tollgate.cache_hit", record.CacheHit is not null); // true: the response cache answered, no provider was called
        if (record.CacheHit is { } kind)
        {
            span.SetTag("tollgate.cache_hit_kind", kind);
        }

        if (record.CacheSavings != 0)
        {
            span.SetTag("tollgate.cache_savings", (double)record.CacheSavings);
        }

        if (record.ProviderCacheSavings != 0)
        {
            span.SetTag("tollgate.provider_cache_savings", (double)record.ProviderCacheSavings);
        }

        span.SetTag("tollgate.usage_estimated", record.Estimated);
        if (settings.TelemetryEndUser && record.Attribution.User is { } user)
        {
            span.SetTag("enduser.id", user);
        }

        if (record.ErrorClass is { } error)
        {
            span.SetTag("error.type", error);
            span.SetStatus(ActivityStatusCode.Error, error);
        }

        span.SetEndTime(record.Timestamp.UtcDateTime.AddMilliseconds(record.LatencyMs));
    }

    private static void AddIfSet(ref TagList tags, string name, string? value)
    {
        if (value is not null)
        {
            tags.Add(name, value);
        }
    }

    /// <summary>The conventions' well-known provider names; a generic OpenAI-compatible server is named as configured.</summary>
    private static string ProviderName(Provider provider) => provider.Kind switch
    {
        ProviderKind.OpenAi => "openai",
        ProviderKind.Anthropic => "anthropic",
        ProviderKind.AzureOpenAi => "azure.ai.openai",
        _ => provider.Name,
    };

    private static (string Address, int Port) Server(Provider provider)
    {
        var uri = provider.Endpoint(WireApi.ChatCompletions);
        return (uri.Host, uri.Port);
    }
}

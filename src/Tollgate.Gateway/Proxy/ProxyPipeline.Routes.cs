using System.Globalization;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Protocols;
using Tollgate.Gateway.Protocols.Translation;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Routing;
using Route = Tollgate.Gateway.Routing.Route;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// Calls made to a route (docs/api.md "Routes"): the route picks the first target (rule, weight, or a downgrade near a
/// limit), one reservation covers the dearest target the call may reach, and each attempt runs the same forward and
/// settle steps as a direct call: every attempt that reached a provider is its own usage record, linked by the
/// request id. A failure listed in the route's <c>retry.on</c> that happens before any byte reached the client moves
/// the call on (the same target after a backoff, then the next fallback); the client gets the first answer that is
/// not such a failure, or else the first target's error, always in the API it called.
/// </summary>
internal sealed partial class ProxyPipeline
{
    public const string ModelHeader = "X-Tollgate-Model";
    public const string RouteHeader = "X-Tollgate-Route";
    public const string AttemptsHeader = "X-Tollgate-Attempts";

    /// <summary>The longest <c>Retry-After</c> a provider can make a call wait before its next try; longer moves on to the next target.</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(10);

    private async Task HandleRoutedAsync(HttpContext context, ClientProtocol client, Admission admission, ParsedRequest request, Route route, string requestId, long started)
    {
        var (key, attribution, body) = admission;
        if (!route.AllowedBy(model => governor.AllowsModel(key, model)))
        {
            await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.ModelNotAllowed(route.Name));
            return;
        }

        if (request.Background || request.PreviousResponseId is not null)
        {
            await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.InvalidRequest(
                $"'{(request.Background ? "background" : "previous_response_id")}' needs one provider throughout; send it with a provider/model name, not the route '{route.Name}'.",
                request.Background ? "background" : "previous_response_id"));
            return;
        }

        // Cache: a stored answer of the route serves the call before any target is chosen.
        var ticket = cache.Open(context, client.Api, key, attribution, request, body.Span);
        if (ticket is not null && await ServeCachedAsync(context, client, ticket, key, attribution, request, requestId, started))
        {
            return;
        }

        // Choose: a rule or the weights, then a downgrade when a limit that applies is nearly used.
        var (first, reason) = router.Choose(route, key, attribution, context.Request.Headers, body.Span);
        if (route.Downgrade is { } downgrade && first != downgrade.Model && await governor.UsedShareAsync(key, attribution, first) >= downgrade.At)
        {
            (first, reason) = (downgrade.Model, Router.ByDowngrade);
        }

        var chain = router.Chain(route, first, reason, client.Api);
        if (chain.Count == 0)
        {
            await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.ModelNotFound(route.Name));
            return;
        }

        // The first target's request is built before reserving: a parameter its API cannot take is the client's 400.
        var forward = BuildRequest(client, chain[0], request, body, route, ticket);
        if (forward.Error is { } untranslatable)
        {
            await ErrorWriter.WriteAsync(context, client.Shape, untranslatable);
            return;
        }

        // Govern: one reservation at the dearest target of the chain; refused by a budget or quota, a downgrade that still fits serves the call.
        var outputCap = client.Api == WireApi.Embeddings ? 0 : request.MaxTokens ?? settings.DefaultOutputCap;
        var cheaper = route.Downgrade is { } d && chain[0].Model != d.Model ? d : null;
        var reserved = await ReserveAsync(key, attribution, chain, body, outputCap, ticket, alertOnRefusal: cheaper is null);
        if (reserved.Lease is null && cheaper is not null && reserved.Error?.Code is "budget_exceeded" or "token_quota_exceeded")
        {
            // The downgrade serves the call if it fits; if it cannot, or does not fit, the refusal stands, this time with its alert.
            if (router.Target(cheaper.Model, client.Api, Router.ByDowngrade) is { } cheaperTarget
                && BuildRequest(client, cheaperTarget, request, body, route, ticket) is { Error: null } cheaperRequest)
            {
                forward.Dispose();
                (chain, forward) = ([cheaperTarget], cheaperRequest);
            }

            reserved = await ReserveAsync(key, attribution, chain, body, outputCap, ticket);
        }

        if (reserved.RateHeaders is not null)
        {
            client.WriteRateHeaders(context.Response, reserved.RateHeaders, time.GetUtcNow());
        }

        if (reserved.Lease is not { } lease)
        {
            forward.Dispose();
            await ErrorWriter.WriteAsync(context, client.Shape, reserved.Error!);
            return;
        }

        context.Response.Headers[RouteHeader] = route.Name;
        var savingsBase = router.Target(route.Targets[0].Model, client.Api, Router.ByWeight) is { } baseline ? prices.Find(baseline.Provider, baseline.UpstreamModel) : null;
        await AttemptAllAsync(context, client, request, body, route, chain, forward, requestId, key, attribution, started, lease, savingsBase, ticket);
    }

    /// <summary>The attempts of one call, each settled as it ends; the call's reservation is settled by the last.</summary>
    private async Task AttemptAllAsync(
        HttpContext context, ClientProtocol client, ParsedRequest request, PooledBuffer body, Route route, List<RouteAttempt> chain, RouteRequest forward,
        string requestId, VirtualKey key, Attribution attribution, long started, Governance.Reservation lease, ModelPrice? savingsBase, Caching.CacheTicket? ticket)
    {
        Attempted? firstFailure = null;
        var attempt = 0;
        var earlierCost = 0m;
        try
        {
            for (var t = 0; t < chain.Count; t++)
            {
                var target = chain[t];
                if (t > 0)
                {
                    forward.Dispose();
                    forward = BuildRequest(client, target, request, body, route, ticket);
                    if (forward.Error is not null)
                    {
                        continue; // this fallback cannot take the request; nothing was sent
                    }
                }

                for (var @try = 1; @try <= route.Retry.Attempts; @try++)
                {
                    attempt++;
                    var record = NewRecord(requestId, key, attribution, client.Operation, target.Provider, target.Model, request.Stream, attempt, route.Name, t == 0 ? target.Reason : Router.ByFallback);
                    var meter = ProviderProtocol.For(target.Api).CreateMeter(forward.UsageInjected);
                    context.Response.Headers[ModelHeader] = target.Model;
                    context.Response.Headers[AttemptsHeader] = attempt.ToString(CultureInfo.InvariantCulture);
                    var call = new UpstreamRequest(HttpMethod.Post, target.Provider.Endpoint(target.Api), forward.Body!.Memory, target.Provider, context.Request.Headers);
                    var received = await ForwardAsync(context, call, meter, record, started, request.Stream ? forward.Translation?.CreateStream(request.IncludeUsage, request.Model) : null, ticket?.Recorder);
                    var failure = RetryableFailure(context, received, route.Retry);
                    var more = (@try < route.Retry.Attempts || t < chain.Count - 1) && !context.RequestAborted.IsCancellationRequested;
                    if (failure is null || !more)
                    {
                        await SettleAsync(context, received, meter, body, target.Provider, record, started, lease, final: true, savingsBase, ticket);
                        await NoteHealthAsync(target.Model, failure, route);
                        using (var last = new Attempted(target, received, meter, record, forward.Translation))
                        {
                            var shown = failure is not null && firstFailure is { } earlier ? earlier : last;
                            if (!context.Response.HasStarted)
                            {
                                context.Response.Headers[ModelHeader] = shown.Target.Model;
                            }

                            RememberOwner(client, target.Provider, record);
                            await DeliverAsync(context, client, shown.Target.Provider, shown.Received, shown.Record, shown.Translation, earlierCost, shown == last ? ticket : null);
                        }

                        return;
                    }

                    await SettleAsync(context, received, meter, body, target.Provider, record, started, lease, final: false);
                    earlierCost += record.Cost;
                    await NoteHealthAsync(target.Model, failure, route);
                    if (firstFailure is null)
                    {
                        firstFailure = new Attempted(target, received, meter, record, forward.Translation);
                    }
                    else
                    {
                        received.Dispose();
                        meter.Dispose();
                    }

                    if (@try == route.Retry.Attempts || failure == "context_length" || Backoff(received, route.Retry, @try) is not { } wait)
                    {
                        break; // the next target
                    }

                    try
                    {
                        await Task.Delay(wait, time, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        // The client left between attempts: nothing more is sent, and the reservation is given back.
                        await ReleaseAsync(lease, record);
                        return;
                    }
                }
            }

            // Every remaining fallback could not take the request: the first failure stands.
            if (firstFailure is { } only)
            {
                context.Response.Headers[ModelHeader] = only.Target.Model;
                await ReleaseAsync(lease, only.Record);
                await DeliverAsync(context, client, only.Target.Provider, only.Received, only.Record, only.Translation);
            }
        }
        finally
        {
            forward.Dispose();
            firstFailure?.Dispose();
        }
    }

    /// <summary>
    /// Why an attempt should be followed by another, or null: a status listed in <c>retry.on</c>, <c>timeout</c>,
    /// <c>connect</c> (no connection, or one broken before an answer), or <c>context_length</c> (a 400 saying the prompt is
    /// too long for the model). Never once bytes went to the client, nor when the client left.
    /// </summary>
    private static string? RetryableFailure(HttpContext context, Received received, RetryPolicy retry)
    {
        if (context.Response.HasStarted)
        {
            return null;
        }

        var why = received.Failure switch
        {
            UpstreamFailure.None when received.Response.Status == 400 && received.Body is { } body && ContextLengthExceeded(body.Span) => "context_length",
            UpstreamFailure.None when received.Response.Status >= 400 => received.Response.Status.ToString(CultureInfo.InvariantCulture),
            UpstreamFailure.Timeout => "timeout",
            UpstreamFailure.Connect => "connect",
            UpstreamFailure.Broken => "502",
            _ => null,
        };
        return why is not null && retry.On.Contains(why) ? why : null;
    }

    /// <summary>The error texts OpenAI, Anthropic and OpenAI-compatible servers give for a prompt longer than the model's context.</summary>
    private static bool ContextLengthExceeded(ReadOnlySpan<byte> body) =>
        body.IndexOf("context_length_exceeded"u8) >= 0 || body.IndexOf("maximum context length"u8) >= 0
        || body.IndexOf("prompt is too long"u8) >= 0 || body.IndexOf("context window"u8) >= 0;

    /// <summary>
    /// How long to wait before trying the same target again: the route's backoff doubled per try with ±50 % jitter, at
    /// least what the provider asked in <c>Retry-After</c>; null when the provider asked for longer than
    /// <see cref="MaxRetryAfter"/> (the call moves on to the next target instead).
    /// </summary>
    private static TimeSpan? Backoff(Received received, RetryPolicy retry, int @try)
    {
        var asked = RetryAfter(received.Response.Message);
        if (asked > MaxRetryAfter)
        {
            return null;
        }

        var backoff = TimeSpan.FromMilliseconds(retry.BackoffMs * Math.Pow(2, @try - 1) * (0.5 + Random.Shared.NextDouble()));
        return asked is { } a && a > backoff ? a : backoff;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        if (response is null)
        {
            return null;
        }

        if (response.Headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => null,
        };
    }

    /// <summary>A success ends a target's run of failures; a failure that says something about the target (not the prompt's length) adds to it.</summary>
    private async ValueTask NoteHealthAsync(string target, string? failure, Route route)
    {
        if (failure is null)
        {
            cooldowns.Succeeded(target);
        }
        else if (failure != "context_length")
        {
            await cooldowns.FailedAsync(target, route.Cooldown);
        }
    }

    /// <summary>Gives a call's reservation back when no attempt is left to settle it (what the attempts were billed is charged already).</summary>
    private static ValueTask ReleaseAsync(Governance.Reservation lease, UsageRecord attempt) => lease.SettleAsync(new UsageRecord
    {
        Id = attempt.Id,
        Timestamp = attempt.Timestamp,
        Operation = attempt.Operation,
        Provider = attempt.Provider,
        RequestedModel = attempt.RequestedModel,
        ErrorClass = "not_sent",
    });

    private ValueTask<Governance.ReserveResult> ReserveAsync(VirtualKey key, Attribution attribution, List<RouteAttempt> chain, PooledBuffer body, long outputCap, Caching.CacheTicket? ticket, bool alertOnRefusal = true) =>
        governor.ReserveAsync(key, attribution, chain[0].Provider, chain[0].Model, chain[0].UpstreamModel, body.Memory, outputCap, calibrates: true,
            alsoPricedAt: [.. chain.Skip(1).Select(a => (a.Provider, a.UpstreamModel))], alertOnRefusal, writesCache: chain.Any(a => WritesCache(ticket, a.Provider)));

    /// <summary>
    /// The body one target is sent: the client's bytes with the model replaced (byte splicing, as for a direct call), or,
    /// when the target speaks the other API, the request translated (Anthropic's required <c>max_tokens</c> defaults to
    /// the gateway's output cap; parameters the other API lacks are refused by name unless the route drops them).
    /// </summary>
    private RouteRequest BuildRequest(ClientProtocol client, RouteAttempt target, ParsedRequest request, PooledBuffer body, Route route, Caching.CacheTicket? ticket)
    {
        if (Translation.Between(client.Api, target.Api) is not { } translation)
        {
            var injected = ProviderProtocol.SameAs(client).InjectsStreamUsage(request);
            return new RouteRequest(WithPromptCaching(Rewrite(body, request, target.UpstreamModel, injected, ticket), ticket, target.Provider, target.Api, target.UpstreamModel), injected, null, null);
        }

        var options = new TranslationOptions(target.UpstreamModel, (int)Math.Min(settings.DefaultOutputCap, int.MaxValue), route.DropUnsupportedParams, target.Provider.Kind);
        return translation.TranslateRequest(body.Span, options, out var translated) is { } error
            ? new RouteRequest(null, false, error.ToGatewayError(), null)
            : new RouteRequest(WithPromptCaching(translated!, ticket, target.Provider, target.Api, target.UpstreamModel), false, null, translation);
    }

    /// <summary>The body of one attempt's request and the translation it went through (null: the client's own API), or why it cannot be made.</summary>
    private readonly record struct RouteRequest(PooledBuffer? Body, bool UsageInjected, GatewayError? Error, Translation? Translation) : IDisposable
    {
        public void Dispose() => Body?.Dispose();
    }

    /// <summary>An attempt kept for the end of the call: the first target's failure is what the client gets if nothing answers.</summary>
    private sealed record Attempted(RouteAttempt Target, Received Received, UsageMeter Meter, UsageRecord Record, Translation? Translation) : IDisposable
    {
        public void Dispose()
        {
            Received.Dispose();
            Meter.Dispose();
        }
    }
}

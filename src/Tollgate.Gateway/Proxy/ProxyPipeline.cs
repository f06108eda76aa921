using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Protocols;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// The request pipeline, top to bottom: admit (key, attribution, body) → parse → route → policy → govern → forward →
/// receive → settle → deliver. Every API endpoint runs through here; the client-facing half of its API is a
/// <see cref="ClientProtocol"/>, the provider-facing half a <see cref="ProviderProtocol"/>. Forwarding yields a value
/// (<see cref="UpstreamClient"/>), one settle step turns whatever happened into exactly one usage record, and only then
/// does the client get the end of the answer.
/// </summary>
internal sealed partial class ProxyPipeline(
    KeyService keys,
    ProviderRegistry providers,
    PriceCatalog prices,
    LedgerWriter ledger,
    ResponseOwners responseOwners,
    Governance.Governor governor,
    ConfigLoader config,
    ConfigSync sync,
    UpstreamClient upstream,
    Routing.Router router,
    Routing.TargetCooldowns cooldowns,
    GatewaySettings settings,
    Telemetry.GatewayTelemetry telemetry,
    Caching.ResponseCache cache,
    TimeProvider time,
    ILogger<ProxyPipeline> log)
{
    public const string RequestIdHeader = "X-Tollgate-Request-Id";
    public const string CostHeader = "X-Tollgate-Cost";

    /// <summary>The overall cap of a non-streaming exchange when <c>TOLLGATE_UPSTREAM_TIMEOUT_SECONDS</c> is unset.</summary>
    private static readonly TimeSpan DefaultNonStreamingCap = TimeSpan.FromSeconds(600);

    private readonly TimeSpan _idleTimeout = TimeSpan.FromSeconds(settings.UpstreamIdleTimeoutSeconds);

    public async Task HandleAsync(HttpContext context, ClientProtocol client)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = Guid.CreateVersion7().ToString();
        context.Response.Headers[RequestIdHeader] = requestId;

        if (await AdmitAsync(context, client.Shape, config.RequiredHeaders) is not var (key, attribution, body))
        {
            return;
        }

        using (body)
        {
            // Parse.
            if (client.Validate(body.Span, out var request) is { } invalid)
            {
                await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.InvalidRequest(invalid));
                return;
            }

            // Route: a route's name → its targets (Routes.cs); provider/model → the provider, spoken to in the client's own API.
            var slash = request.Model.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 && router.Find(request.Model) is { } route)
            {
                await HandleRoutedAsync(context, client, new Admission(key, attribution, body), request, route, requestId, started);
                return;
            }

            var provider = slash > 0 ? providers.Find(request.Model.AsSpan(0, slash)) : null;
            if (provider is null || slash == request.Model.Length - 1)
            {
                await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.ModelNotFound(request.Model));
                return;
            }

            var api = ProviderProtocol.SameAs(client);
            if (!provider.Kind.Speaks(api.Api))
            {
                await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.InvalidRequest(
                    $"The provider '{provider.Name}' ({provider.Kind.ToWire()}) does not serve {client.Path}; use {ClientProtocol.AlternativeFor(provider.Kind)}.", "model"));
                return;
            }

            // Policy.
            if (await CheckPolicyAsync(key, provider, request) is { } denied)
            {
                await ErrorWriter.WriteAsync(context, client.Shape, denied);
                return;
            }

            // Cache: a stored answer serves the call without reaching the provider.
            var ticket = cache.Open(context, client.Api, key, attribution, request, body.Span);
            if (ticket is not null && await ServeCachedAsync(context, client, ticket, key, attribution, request, requestId, started))
            {
                return;
            }

            // The body to send (the model name spliced, stream usage asked for, the policy's prompt caching), then govern:
            // reserve against every limit, all or nothing; the rate-limit state goes out on refusals too.
            var upstreamModel = request.Model[(slash + 1)..];
            var injected = api.InjectsStreamUsage(request);
            using var forwardBody = WithPromptCaching(Rewrite(body, request, upstreamModel, injected, ticket), ticket, provider, api.Api, upstreamModel);
            var outputCap = client.Api == WireApi.Embeddings ? 0 : request.MaxTokens ?? settings.DefaultOutputCap;
            var (lease, refusal, rateHeaders) = await governor.ReserveAsync(key, attribution, provider, request.Model, upstreamModel, body.Memory, outputCap, calibrates: request.PreviousResponseId is null, writesCache: WritesCache(ticket, provider));
            if (rateHeaders is not null)
            {
                client.WriteRateHeaders(context.Response, rateHeaders, time.GetUtcNow());
            }

            if (lease is null)
            {
                await ErrorWriter.WriteAsync(context, client.Shape, refusal!);
                return;
            }

            // Forward → receive → settle → deliver.
            var record = NewRecord(requestId, key, attribution, client.Operation, provider, request.Model, request.Stream);
            using var meter = api.CreateMeter(injected);
            await ExchangeAsync(context, client, new UpstreamRequest(HttpMethod.Post, api.Endpoint(provider), forwardBody.Memory, provider, context.Request.Headers), meter, body, record, started, lease, ticket);
        }
    }

    /// <summary>
    /// Responses API follow-ups (<c>GET|DELETE /v1/responses/{id}</c>, <c>POST …/cancel</c>, <c>GET …/input_items</c>):
    /// sent to the provider that created the response, for the key that created it; any other key gets 404 and nothing is forwarded.
    /// </summary>
    public async Task HandleFollowUpAsync(HttpContext context, string responseId, string operation, string suffix)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = Guid.CreateVersion7().ToString();
        context.Response.Headers[RequestIdHeader] = requestId;
        var client = ClientProtocol.ResponsesFollowUp;
        if (await AdmitAsync(context, client.Shape, []) is not var (key, attribution, body))
        {
            return;
        }

        using (body)
        {
            var owner = await responseOwners.FindAsync(responseId, context.RequestAborted);
            var provider = owner is not null && owner.KeyId == key.Id ? providers.Find(owner.Provider) : null;
            if (provider is null)
            {
                await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.ResponseNotFound(responseId));
                return;
            }

            var record = NewRecord(requestId, key, attribution, operation, provider, owner!.Model, stream: false);
            using var meter = ProviderProtocol.ResponsesFollowUp.CreateMeter(false);
            var call = new UpstreamRequest(new HttpMethod(context.Request.Method), provider.ResponseEndpoint(responseId, suffix, context.Request.QueryString.Value ?? ""), body.Memory, provider, context.Request.Headers);
            await ExchangeAsync(context, client, call, meter, body, record, started, Governance.Reservation.None);
        }
    }

    /// <summary>Authenticates the key, reads the attribution headers and the body; on any failure writes the error and returns null.</summary>
    private async ValueTask<Admission?> AdmitAsync(HttpContext context, ErrorShape shape, IReadOnlyList<string> requiredHeaders)
    {
        await sync.EnsureFreshAsync();
        var key = Authenticate(context.Request);
        if (key is null)
        {
            await ErrorWriter.WriteAsync(context, shape, context.Request.Headers.ContainsKey(HeaderNames.Authorization) || context.Request.Headers.ContainsKey("x-api-key")
                ? GatewayError.InvalidApiKey
                : GatewayError.MissingApiKey);
            return null;
        }

        if (AttributionReader.Read(context.Request.Headers, key.Owner, requiredHeaders, out var attribution) is { } attributionError)
        {
            await ErrorWriter.WriteAsync(context, shape, attributionError);
            return null;
        }

        var (body, bodyError) = await RequestBody.ReadAsync(context.Request, settings.MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, shape, bodyError!);
            return null;
        }

        return new Admission(key, attribution, body);
    }

    /// <summary>The policy step: model allowlists (key and plan), what the gateway cannot meter yet, and response ownership.</summary>
    private async ValueTask<GatewayError?> CheckPolicyAsync(VirtualKey key, Provider provider, ParsedRequest request)
    {
        if (!governor.AllowsModel(key, request.Model))
        {
            return GatewayError.ModelNotAllowed(request.Model);
        }

        if (request.Background)
        {
            return GatewayError.InvalidRequest(
                "'background: true' is not supported yet: Tollgate meters a response while it streams through, and a background response finishes after the request.", "background");
        }

        if (request.PreviousResponseId is not { } previous)
        {
            return null;
        }

        var owner = await responseOwners.FindAsync(previous, CancellationToken.None);
        if (owner is null || owner.KeyId != key.Id)
        {
            return GatewayError.ResponseNotFound(previous);
        }

        return owner.Provider == provider.Name
            ? null
            : GatewayError.InvalidRequest($"previous_response_id '{previous}' was created by the provider '{owner.Provider}'; continue it with a model of that provider.", "previous_response_id");
    }

    private UsageRecord NewRecord(string requestId, VirtualKey key, Attribution attribution, string operation, Provider provider, string model, bool stream, int attempt = 1, string? route = null, string? reason = null) => new()
    {
        Id = attempt == 1 ? requestId : Guid.CreateVersion7().ToString(),
        RequestId = requestId,
        Attempt = attempt,
        Route = route,
        RoutingReason = reason,
        Timestamp = time.GetUtcNow(),
        KeyId = key.Id,
        Attribution = attribution,
        Operation = operation,
        Provider = provider.Name,
        RequestedModel = model,
        Stream = stream,
    };

    private VirtualKey? Authenticate(HttpRequest request)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count == 1 && authorization[0] is { } value && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return keys.Authenticate(value.AsSpan(7).Trim());
        }

        // Anthropic clients send x-api-key; accept it on every path so one key works with any SDK.
        if (request.Headers.TryGetValue("x-api-key", out var apiKey) && apiKey.Count == 1)
        {
            return keys.Authenticate(apiKey[0]);
        }

        return null;
    }

    /// <summary>Forward → receive → settle → deliver: one exchange with a provider, settled exactly once.</summary>
    private async Task ExchangeAsync(HttpContext context, ClientProtocol client, UpstreamRequest call, UsageMeter meter, PooledBuffer requestBody, UsageRecord record, long started, Governance.Reservation lease, Caching.CacheTicket? ticket = null)
    {
        using var received = await ForwardAsync(context, call, meter, record, started, recorder: ticket?.Recorder);
        await SettleAsync(context, received, meter, requestBody, call.Provider, record, started, lease, ticket: ticket);
        RememberOwner(client, call.Provider, record);
        await DeliverAsync(context, client, call.Provider, received, record, ticket: ticket);
    }

    /// <summary>Sends one request to a provider and takes in its answer (a stream is relayed until its usage arrives).</summary>
    private async Task<Received> ForwardAsync(HttpContext context, UpstreamRequest call, UsageMeter meter, UsageRecord record, long started, Protocols.Translation.StreamTranslator? translator = null, System.Buffers.ArrayBufferWriter<byte>? recorder = null)
    {
        var cap = settings.UpstreamTimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : record.Stream ? (TimeSpan?)null : DefaultNonStreamingCap;
        var deadline = new UpstreamDeadline(_idleTimeout, cap, context.RequestAborted);
        var response = await upstream.SendAsync(call, deadline);
        return await ReceiveAsync(context, response, meter, deadline, record, started, translator, recorder);
    }

    /// <summary>A Responses API answer's owner is known before the client has the end of it, so a follow-up sent right after finds it.</summary>
    private void RememberOwner(ClientProtocol client, Provider provider, UsageRecord record)
    {
        if (client == ClientProtocol.Responses && record.Status < 400 && record.ResponseId is { } responseId)
        {
            responseOwners.Remember(responseId, new ResponseOwner(provider.Name, record.KeyId!, record.RequestedModel));
        }
    }

    /// <summary>
    /// Takes in the provider's answer: a whole body (answers and error bodies), or a stream relayed until its usage
    /// arrives (the client sees its events as they come; the end waits for settlement). Failures become values.
    /// </summary>
    private async Task<Received> ReceiveAsync(HttpContext context, UpstreamResponse response, UsageMeter meter, UpstreamDeadline deadline, UsageRecord record, long started, Protocols.Translation.StreamTranslator? translator, System.Buffers.ArrayBufferWriter<byte>? recorder)
    {
        if (response.Failure != UpstreamFailure.None)
        {
            return new Received(response, deadline, response.Failure, null, null);
        }

        SseRelay? relay = null;
        try
        {
            if (response.Status < 400 && response.IsEventStream)
            {
                var http = context.Response;
                http.StatusCode = response.Status;
                UpstreamHeaders.CopyResponseHeaders(response.Message!, http);
                http.Headers.CacheControl = "no-cache";
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                await http.StartAsync(deadline.Token);
                relay = new SseRelay(await response.Message!.Content.ReadAsStreamAsync(deadline.Token), http.BodyWriter, meter, deadline, settings.MaxSseEventBytes, translator, recorder);
                await relay.RelayUntilUsageAsync(() => record.TimeToFirstTokenMs = Elapsed(started));
                return new Received(response, deadline, UpstreamFailure.None, null, relay);
            }

            var body = await response.ReadBodyAsync(deadline);
            if (response.Status < 400)
            {
                record.TimeToFirstTokenMs = Elapsed(started);
                meter.ReadResponse(body.Span);
            }

            return new Received(response, deadline, UpstreamFailure.None, body, null);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            return new Received(response, deadline, UpstreamClient.Classify(e, deadline, sent: true), null, relay);
        }
    }

    /// <summary>
    /// The one settle step: whatever happened becomes the record (status, error class, usage: reported, estimated, or
    /// nothing for a request that never reached the provider), the reservation is settled, the record goes to the ledger
    /// and to telemetry. It runs before the client can have the end of the answer, so a report asked right after includes the call.
    /// An attempt of a routed call that a retry or fallback follows is not <paramref name="final"/>: what it was billed is
    /// charged to the limits and the reservation stays for the next attempt. <paramref name="savingsBase"/> is the price of
    /// a route's first target, which the answer's routing savings are measured against; a <paramref name="ticket"/> with
    /// embedding inputs found in the cache gives a successful answer its cache savings.
    /// </summary>
    private async Task SettleAsync(HttpContext context, Received received, UsageMeter meter, PooledBuffer requestBody, Provider provider, UsageRecord record, long started, Governance.Reservation lease, bool final = true, ModelPrice? savingsBase = null, Caching.CacheTicket? ticket = null)
    {
        var status = received.Response.Status;
        if (received.Failure != UpstreamFailure.None)
        {
            record.ErrorClass = ErrorClass(received.Failure);
            record.Status = received.Failure == UpstreamFailure.ClientCancelled ? 499 : context.Response.HasStarted ? status : FailureError(received.Failure, provider).Status;
            if (!received.Response.Sent)
            {
                // The request never left the gateway: the provider cannot bill it, so it carries no tokens and no cost.
                meter.MarkNothingBilled();
            }

            if (received.Failure != UpstreamFailure.ClientCancelled)
            {
                LogUpstreamFailure(log, provider.Name, record.ErrorClass);
            }
        }
        else if (status >= 400)
        {
            // Providers do not bill a request they refused.
            record.ErrorClass = "upstream_" + status.ToString(CultureInfo.InvariantCulture);
            record.Status = status >= 500 ? 502 : status;
            meter.MarkNothingBilled();
        }
        else
        {
            record.Status = status;
        }

        record.ErrorClass ??= meter.StreamError;
        var (usage, estimated) = meter.Result(() => TokenEstimator.EstimateInput(requestBody.Span));
        record.InputTokens = usage.Input;
        record.CachedTokens = usage.Cached;
        record.CacheWriteTokens = usage.CacheWrite;
        record.OutputTokens = usage.Output;
        record.ReasoningTokens = usage.Reasoning;
        record.Estimated = estimated;
        record.ServedModel = meter.ServedModel;
        record.ResponseId = meter.ResponseId;
        var upstreamModel = record.RequestedModel[(provider.Name.Length + 1)..];
        var price = prices.Find(provider, upstreamModel) ?? (meter.ServedModel is { } served ? prices.Find(provider, served) : null);
        record.Cost = price?.Cost(usage) ?? 0m;
        record.ProviderCacheSavings = price?.ProviderCacheSavings(usage) ?? 0m;
        record.ChargeAt(price);
        record.Currency = price?.Currency ?? PriceCatalog.DefaultCurrency;
        if (final && record.Status < 400 && ticket?.Inputs is { } cachedInputs)
        {
            // Embeddings cached per input: the inputs the cache had (and did not send) are what this answer saved.
            record.CacheSavings = cachedInputs.Savings(CostOf);
        }

        if (savingsBase is not null && record.Status < 400)
        {
            record.RoutingSavings = Math.Max(0m, savingsBase.Cost(usage) - record.Cost);
        }

        record.LatencyMs = Elapsed(started);
        if (final)
        {
            await lease.SettleAsync(record);
        }
        else
        {
            await governor.ChargeAttemptAsync(lease, record);
        }

        await ledger.EnqueueAsync(record);
        telemetry.Record(record, provider, meter.FinishReason, context.Request.Headers);
    }

    /// <summary>
    /// Gives the client what is left: the answer, the provider's 4xx as it came (the client's SDK understands it), a
    /// 502 for its 5xx, an error in the client's API (as an error event when a stream is under way), or the stream's end.
    /// The call is settled already; a client leaving now changes nothing. With a <paramref name="translation"/>, the
    /// provider's answer or error body is translated to the client's API first. <c>X-Tollgate-Cost</c> is the cost of the
    /// whole call: the answer's and what <paramref name="earlierCost"/> the attempts before it cost. A successful answer
    /// is stored in the cache when the <paramref name="ticket"/> says so: a body before the client gets it, a stream once
    /// the client has its terminal event.
    /// </summary>
    private static async Task DeliverAsync(HttpContext context, ClientProtocol client, Provider provider, Received received, UsageRecord record, Protocols.Translation.Translation? translation = null, decimal earlierCost = 0, Caching.CacheTicket? ticket = null)
    {
        var http = context.Response;
        var status = received.Response.Status;
        try
        {
            if (received.Failure == UpstreamFailure.ClientCancelled)
            {
                return;
            }

            if (received.Failure != UpstreamFailure.None)
            {
                var error = FailureError(received.Failure, provider);
                if (http.HasStarted)
                {
                    await http.BodyWriter.WriteAsync(client.StreamErrorEvent(error));
                    return;
                }

                await ErrorWriter.WriteAsync(context, client.Shape, error);
                return;
            }

            if (received.Relay is { } relay)
            {
                await relay.FinishAsync();
                if (ticket is not null)
                {
                    await ticket.KeepStreamAsync(record);
                }

                return;
            }

            if (status >= 500)
            {
                await ErrorWriter.WriteAsync(context, client.Shape, GatewayError.UpstreamError($"The provider '{provider.Name}' failed with status {status}."));
                return;
            }

            http.StatusCode = status;
            UpstreamHeaders.CopyResponseHeaders(received.Response.Message!, http);
            if (status >= 400)
            {
                http.Headers[ErrorWriter.ErrorCodeHeader] = "upstream_error";
            }
            else
            {
                http.Headers[CostHeader] = (record.Cost + earlierCost).ToString(CultureInfo.InvariantCulture);
            }

            var body = translation is null ? received.Body!.Memory
                : status < 400 ? translation.TranslateResponse(received.Body!.Span, record.RequestedModel)
                : translation.TranslateErrorBody(status, received.Body!.Span);
            if (translation is not null)
            {
                http.ContentType = "application/json";
            }

            if (ticket is not null && status < 400)
            {
                body = await ticket.CompleteAsync(body, record);
            }

            http.ContentLength = body.Length;
            await http.Body.WriteAsync(body, context.RequestAborted);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // The call is settled; the client left during the last writes, or the provider broke off a stream's tail.
            context.Abort();
        }
    }

    private static GatewayError FailureError(UpstreamFailure failure, Provider provider) => failure switch
    {
        UpstreamFailure.Timeout => GatewayError.UpstreamTimeout(provider.Name),
        UpstreamFailure.Connect => GatewayError.UpstreamError($"The provider '{provider.Name}' could not be reached."),
        UpstreamFailure.EventTooLarge => GatewayError.UpstreamError($"The provider '{provider.Name}' sent a stream event larger than the gateway accepts."),
        _ => GatewayError.UpstreamError($"The provider '{provider.Name}' broke off the response."),
    };

    private static string ErrorClass(UpstreamFailure failure) => failure switch
    {
        UpstreamFailure.Connect => "upstream_connect",
        UpstreamFailure.Timeout => "upstream_timeout",
        UpstreamFailure.EventTooLarge => "upstream_event_too_large",
        UpstreamFailure.ClientCancelled => "client_cancelled",
        _ => "upstream_broken",
    };

    /// <summary>What came back from a provider, ready to be settled and delivered: a body, a paused stream, or a failure.</summary>
    private sealed class Received(UpstreamResponse response, UpstreamDeadline deadline, UpstreamFailure failure, PooledBuffer? body, SseRelay? relay) : IDisposable
    {
        public UpstreamResponse Response { get; } = response;

        public UpstreamFailure Failure { get; } = failure;

        public PooledBuffer? Body { get; } = body;

        public SseRelay? Relay { get; } = relay;

        public void Dispose()
        {
            Body?.Dispose();
            Relay?.Dispose();
            Response.Dispose();
            deadline.Dispose();
        }
    }

    /// <summary>A request that passed authentication and attribution, with its body (to dispose).</summary>
    private readonly record struct Admission(VirtualKey Key, Attribution Attribution, PooledBuffer Body);

    private static double Elapsed(long started) => Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Provider} failed: {ErrorClass}")]
    private static partial void LogUpstreamFailure(ILogger logger, string provider, string errorClass);
}

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
/// The request pipeline, top to bottom: authenticate → read and parse the body → route → policy → forward and relay
/// → settle into exactly one usage record. Every API endpoint runs through here; only the <see cref="ProtocolAdapter"/> differs.
/// </summary>
public sealed partial class ProxyPipeline(
    KeyService keys,
    ProviderRegistry providers,
    PriceCatalog prices,
    LedgerWriter ledger,
    ResponseOwners responseOwners,
    Governance.Governor governor,
    ConfigLoader config,
    ConfigSync sync,
    IHttpClientFactory httpClients,
    GatewaySettings settings,
    Telemetry.GatewayTelemetry telemetry,
    TimeProvider time,
    ILogger<ProxyPipeline> log)
{
    public const string UpstreamClientName = "upstream";
    public const string RequestIdHeader = "X-Tollgate-Request-Id";
    public const string CostHeader = "X-Tollgate-Cost";

    private readonly TimeSpan _upstreamTimeout = TimeSpan.FromSeconds(settings.UpstreamTimeoutSeconds);

    public async Task HandleAsync(HttpContext context, ProtocolAdapter adapter)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = Guid.CreateVersion7().ToString();
        context.Response.Headers[RequestIdHeader] = requestId;

        if (await AdmitAsync(context, adapter.Shape, config.RequiredHeaders) is not var (key, attribution, body))
        {
            return;
        }

        using (body)
        {
            if (adapter.Validate(body.Span, out var request) is { } invalid)
            {
                await ErrorWriter.WriteAsync(context, adapter.Shape, GatewayError.InvalidRequest(invalid));
                return;
            }

            var slash = request.Model.IndexOf('/', StringComparison.Ordinal);
            var provider = slash > 0 ? providers.Find(request.Model.AsSpan(0, slash)) : null;
            if (provider is null || slash == request.Model.Length - 1)
            {
                await ErrorWriter.WriteAsync(context, adapter.Shape, GatewayError.ModelNotFound(request.Model));
                return;
            }

            if (!provider.Kind.Speaks(adapter.Api))
            {
                await ErrorWriter.WriteAsync(context, adapter.Shape, GatewayError.InvalidRequest(
                    $"The provider '{provider.Name}' ({provider.Kind.ToWire()}) does not serve {adapter.Path}; use {ProtocolAdapter.AlternativeFor(provider.Kind)}.", "model"));
                return;
            }

            if (!governor.AllowsModel(key, request.Model))
            {
                await ErrorWriter.WriteAsync(context, adapter.Shape, GatewayError.ModelNotAllowed(request.Model));
                return;
            }

            if (request.Background)
            {
                await ErrorWriter.WriteAsync(context, adapter.Shape, GatewayError.InvalidRequest(
                    "'background: true' is not supported yet: Tollgate meters a response while it streams through, and a background response finishes after the request.", "background"));
                return;
            }

            if (request.PreviousResponseId is { } previous && await CheckPreviousResponseAsync(previous, key, provider) is { } previousError)
            {
                await ErrorWriter.WriteAsync(context, adapter.Shape, previousError);
                return;
            }

            var upstreamModel = request.Model[(slash + 1)..];
            var outputCap = adapter.Api == WireApi.Embeddings ? 0 : request.MaxTokens ?? settings.DefaultOutputCap;
            var (lease, refusal, rateHeaders) = await governor.ReserveAsync(key, attribution, provider, request.Model, upstreamModel, body.Memory, outputCap, calibrates: request.PreviousResponseId is null);
            rateHeaders?.Apply(context.Response, adapter.Shape, time.GetUtcNow());
            if (lease is null)
            {
                await ErrorWriter.WriteAsync(context, adapter.Shape, refusal!);
                return;
            }

            var injected = adapter.InjectsStreamUsage(request);
            using var forwardBody = BodyRewriter.Rewrite(body.Span, request, upstreamModel, injected);
            var record = NewRecord(requestId, key, attribution, adapter.Operation, provider, request.Model, request.Stream);
            using var meter = adapter.CreateMeter(injected);
            var call = new UpstreamCall(HttpMethod.Post, provider.Endpoint(adapter.Api), forwardBody.Memory);
            await ForwardAsync(context, adapter, provider, call, meter, body, record, started, lease);
            if (adapter == ProtocolAdapter.Responses && record.Status < 400 && record.ResponseId is { } responseId)
            {
                responseOwners.Remember(responseId, new ResponseOwner(provider.Name, key.Id, request.Model));
            }
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
        var adapter = ProtocolAdapter.ResponsesFollowUp;
        if (await AdmitAsync(context, adapter.Shape, []) is not var (key, attribution, body))
        {
            return;
        }

        var owner = await responseOwners.FindAsync(responseId);
        var provider = owner is not null && owner.KeyId == key.Id ? providers.Find(owner.Provider) : null;
        if (provider is null)
        {
            body.Dispose();
            await ErrorWriter.WriteAsync(context, adapter.Shape, GatewayError.ResponseNotFound(responseId));
            return;
        }

        using (body)
        {
            var record = NewRecord(requestId, key, attribution, operation, provider, owner!.Model, stream: false);
            using var meter = adapter.CreateMeter(false);
            var call = new UpstreamCall(new HttpMethod(context.Request.Method), provider.ResponseEndpoint(responseId, suffix, context.Request.QueryString.Value ?? ""), body.Memory);
            await ForwardAsync(context, adapter, provider, call, meter, body, record, started, Governance.Reservation.None);
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

    private async ValueTask<GatewayError?> CheckPreviousResponseAsync(string previous, VirtualKey key, Provider provider)
    {
        var owner = await responseOwners.FindAsync(previous);
        if (owner is null || owner.KeyId != key.Id)
        {
            return GatewayError.ResponseNotFound(previous);
        }

        return owner.Provider == provider.Name
            ? null
            : GatewayError.InvalidRequest($"previous_response_id '{previous}' was created by the provider '{owner.Provider}'; continue it with a model of that provider.", "previous_response_id");
    }

    private UsageRecord NewRecord(string requestId, VirtualKey key, Attribution attribution, string operation, Provider provider, string model, bool stream) => new()
    {
        Id = requestId,
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

    private async Task ForwardAsync(HttpContext context, ProtocolAdapter adapter, Provider provider, UpstreamCall call, UsageMeter meter, PooledBuffer requestBody, UsageRecord record, long started, Governance.Reservation lease)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(_upstreamTimeout);
        var cancel = deadline.Token;
        HttpResponseMessage? upstream = null;
        var recorded = false;
        var content = call.Body.IsEmpty ? null : new TrackedContent(call.Body);
        try
        {
            using var message = new HttpRequestMessage(call.Method, call.Uri) { Content = content };

            UpstreamHeaders.CopyRequestHeaders(context.Request.Headers, message, provider);
            upstream = await httpClients.CreateClient(UpstreamClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancel);
            var status = (int)upstream.StatusCode;
            if (status >= 400)
            {
                await RelayUpstreamErrorAsync(context, adapter, provider, upstream, record, meter, RecordAsync, cancel);
                return;
            }

            record.Status = status;
            var response = context.Response;
            response.StatusCode = status;
            UpstreamHeaders.CopyResponseHeaders(upstream, response);
            var upstreamStream = await upstream.Content.ReadAsStreamAsync(cancel);
            if (upstream.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                response.Headers.CacheControl = "no-cache";
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                await response.StartAsync(cancel);
                await SseRelay.RelayAsync(upstreamStream, response.BodyWriter, meter, () => record.TimeToFirstTokenMs = Elapsed(started), RecordAsync, cancel);
            }
            else
            {
                using var responseBody = await ReadAllAsync(upstreamStream, upstream.Content.Headers.ContentLength, cancel);
                record.TimeToFirstTokenMs = Elapsed(started);
                meter.ReadResponse(responseBody.Span);
                response.ContentLength = responseBody.Length;
                // Recorded before the client can have the answer, so a report asked right after it includes this call.
                await RecordAsync();
                response.Headers[CostHeader] = record.Cost.ToString(CultureInfo.InvariantCulture);
                await response.Body.WriteAsync(responseBody.Memory, cancel);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Once recorded, the call is settled; a client leaving during the last write changes nothing.
            if (!recorded)
            {
                await FailAsync(context, adapter, provider, record, e, timedOut: deadline.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested, RecordAsync);
            }
        }
        finally
        {
            upstream?.Dispose();
            await RecordAsync();
        }

        // Settle once: actual usage into the record and the counters, then exactly one record to the ledger.
        async ValueTask RecordAsync()
        {
            if (recorded)
            {
                return;
            }

            recorded = true;
            record.ErrorClass ??= meter.StreamError;
            if (upstream is null && content is { Sent: false })
            {
                // The request never left the gateway (connection refused, cancelled before sending): the provider cannot
                // bill it, so it carries no tokens and no cost. Once sent, a failed call keeps its estimate.
                meter.MarkNothingBilled();
            }

            Settle(record, meter, requestBody, provider, started);
            await lease.SettleAsync(record);
            await ledger.EnqueueAsync(record);
            telemetry.Record(record, provider, meter.FinishReason, context.Request.Headers);
        }
    }

    /// <summary>Provider 4xx answers go back as they came (the client's SDK understands them); 5xx become 502 <c>upstream_error</c>.</summary>
    private static async Task RelayUpstreamErrorAsync(HttpContext context, ProtocolAdapter adapter, Provider provider, HttpResponseMessage upstream, UsageRecord record, UsageMeter meter, Func<ValueTask> recordAsync, CancellationToken cancel)
    {
        var status = (int)upstream.StatusCode;
        record.ErrorClass = "upstream_" + status.ToString(CultureInfo.InvariantCulture);
        meter.MarkNothingBilled();
        using var errorBody = await ReadAllAsync(await upstream.Content.ReadAsStreamAsync(cancel), upstream.Content.Headers.ContentLength, cancel);
        if (status >= 500)
        {
            record.Status = 502;
            await recordAsync();
            await ErrorWriter.WriteAsync(context, adapter.Shape, GatewayError.UpstreamError($"The provider '{provider.Name}' failed with status {status}."));
            return;
        }

        record.Status = status;
        await recordAsync();
        context.Response.StatusCode = status;
        UpstreamHeaders.CopyResponseHeaders(upstream, context.Response);
        context.Response.Headers[ErrorWriter.ErrorCodeHeader] = "upstream_error";
        context.Response.ContentLength = errorBody.Length;
        await context.Response.Body.WriteAsync(errorBody.Memory, cancel);
    }

    private async Task FailAsync(HttpContext context, ProtocolAdapter adapter, Provider provider, UsageRecord record, Exception exception, bool timedOut, Func<ValueTask> recordAsync)
    {
        // The client going away can surface as its abort token, a completed pipe, or an I/O error on our write.
        if (context.RequestAborted.IsCancellationRequested || exception is ClientDisconnectedException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            record.Status = 499;
            record.ErrorClass = "client_cancelled";
            return;
        }

        var started = context.Response.HasStarted;
        var (error, errorClass) = exception switch
        {
            OperationCanceledException when timedOut => (GatewayError.UpstreamTimeout(provider.Name), "upstream_timeout"),
            HttpRequestException when !started && record.Status == 0 => (GatewayError.UpstreamError($"The provider '{provider.Name}' could not be reached."), "upstream_connect"),
            _ => (GatewayError.UpstreamError($"The provider '{provider.Name}' broke off the response."), "upstream_broken"),
        };
        LogUpstreamFailure(log, provider.Name, errorClass, exception.GetType().Name);
        record.ErrorClass = errorClass;
        if (!started)
        {
            record.Status = error.Status;
        }

        await recordAsync();
        await ErrorWriter.WriteAsync(context, adapter.Shape, error);
    }

    /// <summary>Actual usage where the provider reported it, tokenizer estimates where not; cost from the catalog.</summary>
    private void Settle(UsageRecord record, UsageMeter meter, PooledBuffer requestBody, Provider provider, long started)
    {
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
        record.ChargeAt(price);
        record.Currency = price?.Currency ?? prices.DefaultCurrency;
        record.LatencyMs = Elapsed(started);
    }

    private static async Task<PooledBuffer> ReadAllAsync(Stream stream, long? length, CancellationToken cancel)
    {
        var buffer = new PooledBuffer((int)Math.Min(length ?? 16 * 1024, 64 * 1024 * 1024) + 1);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.GetMemory(16 * 1024), cancel)) > 0)
            {
                buffer.Advance(read);
            }

            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>A request that passed authentication and attribution, with its body (to dispose).</summary>
    private readonly record struct Admission(VirtualKey Key, Attribution Attribution, PooledBuffer Body);

    /// <summary>One request to a provider: method, URI and the body to send (empty for none).</summary>
    private readonly record struct UpstreamCall(HttpMethod Method, Uri Uri, ReadOnlyMemory<byte> Body);

    private static double Elapsed(long started) => Stopwatch.GetElapsedTime(started).TotalMilliseconds;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Provider} failed: {ErrorClass} ({ExceptionType})")]
    private static partial void LogUpstreamFailure(ILogger logger, string provider, string errorClass, string exceptionType);
}

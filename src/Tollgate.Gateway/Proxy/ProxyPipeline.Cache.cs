using System.Globalization;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Protocols;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// Calls the response cache answers (docs/api.md "Response and embedding cache"): the stored answer goes out in the form
/// the client asked for (the JSON body, or a stream of the called API made from it), no provider is called, and the call
/// is one usage record with <c>cache_hit</c>, zero tokens and cost, and <c>cache_savings</c> = what the provider call it
/// answered costs at the current price. It counts as one request for RPM limits and for nothing else.
/// </summary>
internal sealed partial class ProxyPipeline
{
    /// <summary>True when the cache answered (or an RPM limit refused the answer); false: a miss, the call goes on.</summary>
    private async Task<bool> ServeCachedAsync(HttpContext context, ClientProtocol client, CacheTicket ticket, VirtualKey key, Attribution attribution, ParsedRequest request, string requestId, long started)
    {
        if (await cache.LookupAsync(ticket) is not { Entry: var entry } hit || providers.Find(entry.Provider) is not { } provider)
        {
            return false;
        }

        var (refusal, rateHeaders) = await governor.CountCachedAsync(key, attribution, request.Model);
        if (rateHeaders is not null)
        {
            client.WriteRateHeaders(context.Response, rateHeaders, time.GetUtcNow());
        }

        if (refusal is not null)
        {
            await ErrorWriter.WriteAsync(context, client.Shape, refusal);
            return true;
        }

        var model = provider.Name + "/" + entry.Model;
        var routed = request.Model.IndexOf('/', StringComparison.Ordinal) < 0;
        var record = NewRecord(requestId, key, attribution, client.Operation, provider, model, request.Stream, route: routed ? request.Model : null);
        var price = prices.Find(provider, entry.Model);
        record.CacheHit = hit.Similarity is null ? "exact" : "semantic";
        record.Status = 200;
        record.ServedModel = entry.Model;
        record.CacheSavings = CostOf(entry);
        record.ChargeAt(price);
        record.Currency = price?.Currency ?? Pricing.PriceCatalog.DefaultCurrency;

        var http = context.Response;
        http.Headers[ResponseCache.Header] = hit.Similarity is null ? "hit" : "semantic_hit";
        if (hit.Similarity is { } similarity)
        {
            http.Headers[ResponseCache.SimilarityHeader] = Math.Round(similarity, 4).ToString(CultureInfo.InvariantCulture);
        }

        http.Headers[ResponseCache.AgeHeader] = ((long)entry.AgeSeconds(time.GetUtcNow())).ToString(CultureInfo.InvariantCulture);
        http.Headers[ModelHeader] = model;
        http.Headers[CostHeader] = "0";
        if (routed)
        {
            http.Headers[RouteHeader] = request.Model;
        }

        http.StatusCode = 200;
        try
        {
            if (request.Stream)
            {
                http.ContentType = "text/event-stream";
                http.Headers.CacheControl = "no-cache";
                AnswerForms.WriteStream(ticket.Api, entry.Body, request.IncludeUsage, http.BodyWriter);
                record.TimeToFirstTokenMs = Elapsed(started);
                await http.BodyWriter.FlushAsync(context.RequestAborted);
            }
            else
            {
                http.ContentType = "application/json";
                http.ContentLength = entry.Body.Length;
                record.TimeToFirstTokenMs = Elapsed(started);
                await http.Body.WriteAsync(entry.Body, context.RequestAborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            record.Status = 499;
            record.ErrorClass = "client_cancelled";
        }

        record.LatencyMs = Elapsed(started);
        await ledger.EnqueueAsync(record);
        telemetry.Record(record, provider, null, context.Request.Headers);
        return true;
    }

    /// <summary>
    /// The client's body for one provider in the client's own API: the model name spliced in (and stream usage asked
    /// for), or, for embeddings cached per input, a body with only the inputs the cache did not have.
    /// </summary>
    private static PooledBuffer Rewrite(PooledBuffer body, in ParsedRequest request, string upstreamModel, bool injected, CacheTicket? ticket) =>
        ticket?.Inputs is { } inputs ? inputs.ForwardBody(body.Span, upstreamModel) : BodyRewriter.Rewrite(body.Span, request, upstreamModel, injected);

    /// <summary>Whether the gateway may mark this call's prompt for the provider's cache (reserved at the cache-write price then).</summary>
    private static bool WritesCache(CacheTicket? ticket, Providers.Provider provider) =>
        ticket is { Policy.PromptCaching.AnthropicAuto: true } && provider.Kind == Providers.ProviderKind.Anthropic;

    /// <summary>The body to send with the policy's provider prompt caching applied (the same buffer when nothing changes).</summary>
    private static PooledBuffer WithPromptCaching(PooledBuffer body, CacheTicket? ticket, Providers.Provider provider, Providers.WireApi api, string upstreamModel)
    {
        if (ticket is null || PromptCaching.Apply(body.Span, ticket.Policy.PromptCaching, provider.Kind, api, upstreamModel, ticket.Namespace) is not { } rewritten)
        {
            return body;
        }

        body.Dispose();
        return rewritten;
    }

    /// <summary>What the provider call behind a stored answer costs at the current price (zero when its provider or price is gone).</summary>
    private decimal CostOf(CacheEntry entry) =>
        providers.Find(entry.Provider) is { } provider && prices.Find(provider, entry.Model) is { } price ? price.Cost(entry.Usage) : 0m;
}

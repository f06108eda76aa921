using System.Buffers;
using System.Text.Json;
using Microsoft.Net.Http.Headers;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols;
using Tollgate.Gateway.Protocols.Translation;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The response cache (docs/api.md "Response and embedding cache"): decides per call whether the cache may answer and
/// store it (a policy covers it, the request controls allow it, the request is cacheable), looks answers up (the exact
/// key first, then the semantic index), and stores finished answers in their non-stream form. Entries live in the
/// policy's namespace, so two keys share an answer only when a policy puts them in the same team or the global namespace.
/// </summary>
internal sealed class ResponseCache(CachePolicyTable policies, ICacheStore store, SemanticIndex index, TextEmbedder embedder, TimeProvider time)
{
    public const string Header = "X-Tollgate-Cache";
    public const string AgeHeader = "X-Tollgate-Cache-Age";
    public const string SimilarityHeader = "X-Tollgate-Cache-Similarity";

    public ICacheStore Store => store;

    /// <summary>
    /// The cache's part in one call, or null when no policy covers it (then the call carries no cache header). A ticket
    /// that may neither look up nor store is a bypass; one of a policy that caches nothing only carries its prompt caching.
    /// </summary>
    public CacheTicket? Open(HttpContext context, WireApi api, VirtualKey key, in Attribution attribution, in ParsedRequest request, ReadOnlySpan<byte> body)
    {
        if (policies.For(key, attribution, request.Model) is not { } policy)
        {
            return null;
        }

        var ns = policy.NamespaceFor(key.Id, attribution.Team);
        var perInput = api == WireApi.Embeddings && policy.Embeddings;
        var semantic = policy.Semantic.Enabled && api != WireApi.Embeddings;
        if (!policy.Exact && !semantic && !perInput)
        {
            return new CacheTicket(this, policy, ns, [], api, Lookup: false, Keep: false, null, request.Stream, request.IncludeUsage);
        }

        var (lookup, keep, maxAge) = Controls(context.Request.Headers);
        byte[]? hash = null;
        EmbeddingInputs? inputs = null;
        SemanticQuery? query = null;
        if ((lookup || keep) && request.PreviousResponseId is null && !request.Background)
        {
            using var document = JsonDocument.Parse(body.ToArray(), Wire.DocumentOptions);
            var root = document.RootElement;
            var path = context.Request.Path.Value ?? "";
            if (perInput)
            {
                inputs = EmbeddingInputs.Read(ns, request.Model, root);
            }
            else if (!(root.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number && (!n.TryGetInt32(out var count) || count > 1)))
            {
                hash = CacheKey.Compute(ns, request.Model, path, root);
                query = semantic ? SemanticQuery.Read(api, ns, request.Model, path, root) : null;
            }
        }

        var cacheable = inputs is not null || (hash is not null && (policy.Exact || query is not null));
        var ticket = new CacheTicket(this, policy, ns, hash ?? [], api, cacheable && lookup, cacheable && keep, maxAge, request.Stream, request.IncludeUsage)
        {
            Inputs = inputs,
            Semantic = query,
        };
        context.Response.Headers[Header] = ticket.Lookup ? "miss" : "bypass";
        return ticket;
    }

    /// <summary>
    /// A stored answer young enough for the request, or null: by the exact key (when the policy caches exactly), else
    /// the closest answer given in the same context whose prompt is at least the threshold similar and passes the guard
    /// against false friends. For embeddings cached per input: the whole answer when every input is found (its usage
    /// the sum of theirs); otherwise null, and the ticket knows which inputs to send.
    /// </summary>
    public async ValueTask<CacheHit?> LookupAsync(CacheTicket ticket)
    {
        if (!ticket.Lookup)
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (ticket.Inputs is { } inputs)
        {
            await inputs.LookupAsync(store, ticket.Namespace, ticket.MaxAge, now);
            return inputs.Missing == 0 ? new CacheHit(inputs.Answer(), null) : null;
        }

        if (ticket.Policy.Exact && await store.GetAsync(ticket.Namespace, ticket.Key) is { } entry && Fresh(ticket, entry, now))
        {
            return new CacheHit(entry, null);
        }

        if (ticket.Semantic is not { } query)
        {
            return null;
        }

        ticket.Vector = embedder.Embed(query.Text);
        foreach (var (candidate, similarity) in await index.FindAsync(ticket.Namespace, query.Context, ticket.Vector, ticket.Policy.Semantic.Threshold))
        {
            if (!SemanticGuard.Compatible(candidate.Text, query.Text))
            {
                continue;
            }

            if (await store.GetAsync(ticket.Namespace, candidate.Key) is not { } answer)
            {
                index.Remove(ticket.Namespace, query.Context, candidate);
                continue;
            }

            if (Fresh(ticket, answer, now))
            {
                return new CacheHit(answer, similarity);
            }
        }

        return null;
    }

    /// <summary>Stores a finished answer (its JSON body in the called API) with what the provider call used, and its vector for the semantic cache.</summary>
    public async ValueTask KeepAsync(CacheTicket ticket, byte[] json, UsageRecord record)
    {
        var usage = new TokenUsage(record.InputTokens, record.CachedTokens, record.CacheWriteTokens, record.OutputTokens, record.ReasoningTokens);
        var entry = new CacheEntry(time.GetUtcNow().ToUnixTimeMilliseconds(), record.Provider, UpstreamModel(record), usage, json);
        var ttl = TimeSpan.FromSeconds(ticket.Policy.TtlSeconds);
        await store.SetAsync(ticket.Namespace, ticket.Key, entry, ttl);
        if (ticket.Semantic is { } query)
        {
            await index.AddAsync(ticket.Namespace, query.Context, ticket.Vector ?? embedder.Embed(query.Text), ticket.Key, query.Text, ttl);
        }
    }

    /// <summary>Purges a namespace (null: everything) from the store and the semantic index.</summary>
    public async ValueTask<long> PurgeAsync(string? ns)
    {
        index.Purge(ns);
        return await store.PurgeAsync(ns);
    }

    private static bool Fresh(CacheTicket ticket, CacheEntry entry, DateTimeOffset now) =>
        ticket.MaxAge is not { } maxAge || entry.AgeSeconds(now) <= maxAge.TotalSeconds;

    /// <summary>Stores the embeddings of the inputs sent and returns the whole answer in the client's order.</summary>
    public ValueTask<byte[]> CompleteInputsAsync(CacheTicket ticket, ReadOnlyMemory<byte> upstream, UsageRecord record) =>
        ticket.Inputs!.CompleteAsync(upstream, store, ticket.Namespace, TimeSpan.FromSeconds(ticket.Policy.TtlSeconds), record.Provider, UpstreamModel(record), time.GetUtcNow());

    private static string UpstreamModel(UsageRecord record) =>
        record.RequestedModel.Length > record.Provider.Length ? record.RequestedModel[(record.Provider.Length + 1)..] : record.RequestedModel;

    /// <summary>
    /// <c>Cache-Control: no-cache</c> skips the lookup and stores the answer; <c>no-store</c> (or
    /// <c>X-Tollgate-Cache: off</c>) does neither; <c>max-age=N</c> accepts an entry at most N seconds old.
    /// </summary>
    private static (bool Lookup, bool Keep, TimeSpan? MaxAge) Controls(IHeaderDictionary headers)
    {
        if (headers.TryGetValue(Header, out var off) && string.Equals(off.ToString(), "off", StringComparison.OrdinalIgnoreCase))
        {
            return (false, false, null);
        }

        if (!headers.TryGetValue(HeaderNames.CacheControl, out var value) || !CacheControlHeaderValue.TryParse(value.ToString(), out var control) || control is null)
        {
            return (true, true, null);
        }

        return control.NoStore ? (false, false, null) : (!control.NoCache, true, control.MaxAge);
    }
}

/// <summary>The cache's part in one call: where its entry lives, whether it may be looked up and stored, and (for a stream) what the client got.</summary>
internal sealed record CacheTicket(ResponseCache Cache, CachePolicy Policy, string Namespace, byte[] Key, WireApi Api, bool Lookup, bool Keep, TimeSpan? MaxAge, bool Stream, bool IncludeUsage)
{
    /// <summary>The bytes of a streamed answer as the client got them, when the answer is to be stored.</summary>
    public ArrayBufferWriter<byte>? Recorder { get; } = Keep && Stream ? new ArrayBufferWriter<byte>() : null;

    /// <summary>The inputs of an embeddings call cached one by one (null: the call is cached whole, if at all).</summary>
    public EmbeddingInputs? Inputs { get; init; }

    /// <summary>The last user turn and its context, when the policy matches semantically.</summary>
    public SemanticQuery? Semantic { get; init; }

    /// <summary>The embedding of the last user turn, once computed (by the lookup, or when the answer is stored).</summary>
    public float[]? Vector { get; set; }

    /// <summary>
    /// A successful non-stream answer on its way to the client: stored, and returned as the client gets it (for embeddings
    /// cached per input, the vectors of the inputs sent are stored and merged with those found).
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> CompleteAsync(ReadOnlyMemory<byte> json, UsageRecord record)
    {
        if (!Keep || record.Status >= 400 || record.ErrorClass is not null)
        {
            return json;
        }

        if (Inputs is not null)
        {
            return await Cache.CompleteInputsAsync(this, json, record);
        }

        await Cache.KeepAsync(this, json.ToArray(), record);
        return json;
    }

    /// <summary>Stores a stream that reached its terminal event, in its non-stream form; an interrupted stream is never stored.</summary>
    public ValueTask KeepStreamAsync(UsageRecord record)
    {
        if (Recorder is null || record.Status >= 400 || record.ErrorClass is not null)
        {
            return ValueTask.CompletedTask;
        }

        var usage = new TokenUsage(record.InputTokens, record.CachedTokens, record.CacheWriteTokens, record.OutputTokens, record.ReasoningTokens);
        return AnswerForms.FromStream(Api, Recorder.WrittenSpan, usage) is { } json ? Cache.KeepAsync(this, json, record) : ValueTask.CompletedTask;
    }
}

/// <summary>An answer the cache found: the stored entry and, for a semantic match, how similar its prompt was.</summary>
internal sealed record CacheHit(CacheEntry Entry, double? Similarity);

using Tollgate.Gateway.Pricing;

namespace Tollgate.Gateway.Ledger;

/// <summary>
/// One call that reached (or was sent to) a provider. Never holds prompt or completion text.
/// <see cref="Id"/> is a UUIDv7, unique across replicas, so a replayed record is never counted twice.
/// </summary>
internal sealed class UsageRecord
{
    public required string Id { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    public string? KeyId { get; init; }

    public Attribution Attribution { get; init; }

    /// <summary><c>chat</c>, <c>embeddings</c> (OpenTelemetry GenAI operation names).</summary>
    public required string Operation { get; init; }

    public required string Provider { get; init; }

    public required string RequestedModel { get; init; }

    public string? ServedModel { get; set; }

    /// <summary>The provider's id of the response (<c>chatcmpl-…</c>, <c>msg_…</c>, <c>resp_…</c>), for reconciliation and follow-ups.</summary>
    public string? ResponseId { get; set; }

    public bool Stream { get; init; }

    public long InputTokens { get; set; }

    public long CachedTokens { get; set; }

    public long CacheWriteTokens { get; set; }

    public long OutputTokens { get; set; }

    public long ReasoningTokens { get; set; }

    public decimal Cost { get; set; }

    public string Currency { get; set; } = "USD";

    /// <summary>
    /// True once the unit prices below were taken at settlement (null prices then mean the model had none). Records
    /// written before the ledger kept unit prices (and spool lines from then) read as false: the FOCUS export prices
    /// them from today's catalog and says so.
    /// </summary>
    public bool UnitPricesRecorded { get; set; }

    /// <summary>Price per million uncached input tokens this call was charged at; null when the model had no price.</summary>
    public decimal? InputPerMtok { get; set; }

    /// <summary>Price per million cache-read input tokens this call was charged at.</summary>
    public decimal? CachedInputPerMtok { get; set; }

    /// <summary>Price per million cache-write input tokens this call was charged at.</summary>
    public decimal? CacheWritePerMtok { get; set; }

    /// <summary>Price per million output tokens this call was charged at.</summary>
    public decimal? OutputPerMtok { get; set; }

    public double LatencyMs { get; set; }

    public double? TimeToFirstTokenMs { get; set; }

    /// <summary>HTTP status the client got; 499 when the client went away first.</summary>
    public int Status { get; set; }

    /// <summary>Null on success; otherwise <c>client_cancelled</c>, <c>upstream_timeout</c>, <c>upstream_connect</c>, <c>upstream_&lt;status&gt;</c>, <c>stream_error</c>, ...</summary>
    public string? ErrorClass { get; set; }

    /// <summary>
    /// What the response cache saved on this call: the price of the provider call it answered instead of (its tokens at
    /// the current price); for embeddings partly served from the cache, the price of the inputs not sent.
    /// </summary>
    public decimal CacheSavings { get; set; }

    /// <summary><c>exact</c> or <c>semantic</c> when the response cache answered the call (no provider was called); null otherwise.</summary>
    public string? CacheHit { get; set; }

    /// <summary>
    /// What the provider's own prompt cache saved on this call: cached input tokens × (input price − cached input price).
    /// </summary>
    public decimal ProviderCacheSavings { get; set; }

    /// <summary>
    /// What routing saved on the answering attempt: its usage at the route's first target's price minus its actual cost,
    /// never negative; zero for calls not made through a route.
    /// </summary>
    public decimal RoutingSavings { get; set; }

    /// <summary>The id the client saw in <c>X-Tollgate-Request-Id</c>, shared by every attempt of one call (null reads as <see cref="Id"/>).</summary>
    public string? RequestId { get; init; }

    /// <summary>1 for the first attempt of a call, 2 for the next (a retry or fallback), and so on.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The route the client named, when it named one.</summary>
    public string? Route { get; init; }

    /// <summary>Why this attempt went where it went: <c>rule</c>, <c>weight</c>, <c>downgrade</c> or <c>fallback</c> (null without a route).</summary>
    public string? RoutingReason { get; init; }

    /// <summary>True when some token figure is a tokenizer estimate because the provider reported none.</summary>
    public bool Estimated { get; set; }

    /// <summary>
    /// Keeps the unit prices the call is charged at (all null when the model has none), so a FOCUS row can show the
    /// price of its token kind after the catalog price has changed.
    /// </summary>
    public void ChargeAt(ModelPrice? price)
    {
        UnitPricesRecorded = true;
        InputPerMtok = price?.InputPerMtok;
        CachedInputPerMtok = price?.CachedInputPerMtok;
        CacheWritePerMtok = price?.CacheWritePerMtok;
        OutputPerMtok = price?.OutputPerMtok;
    }
}

/// <summary>Owner fields of the key completed by the request's attribution headers.</summary>
internal readonly record struct Attribution(
    string? User,
    string? Team,
    string? Project,
    string? CostCenter,
    string? Customer,
    string? Feature,
    string? Environment,
    string? Agent,
    string? Session);

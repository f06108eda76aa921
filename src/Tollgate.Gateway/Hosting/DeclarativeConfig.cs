using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Routing;
using Route = Tollgate.Gateway.Routing.Route;

namespace Tollgate.Gateway.Hosting;

/// <summary>
/// The shape of <c>tollgate.yaml</c> (snake_case keys). Every section is optional. Secrets are never written in the
/// file: a provider's <c>api_key_env</c> and a key's <c>key_env</c> name environment variables; a key may instead give
/// its <c>key_hash</c> (lowercase hex SHA-256 of the secret).
/// </summary>
internal sealed class DeclarativeConfig
{
    public List<ProviderEntry> Providers { get; set; } = [];

    public List<PriceEntry> Prices { get; set; } = [];

    public List<PlanEntry> Plans { get; set; } = [];

    public List<KeyEntry> Keys { get; set; } = [];

    public List<BudgetEntry> Budgets { get; set; } = [];

    public List<QuotaRuleEntry> QuotaRules { get; set; } = [];

    public List<LimitEntry> Limits { get; set; } = [];

    public List<RouteEntry> Routes { get; set; } = [];

    public List<CachePolicyEntry> CachePolicies { get; set; } = [];

    public PolicyEntry Policies { get; set; } = new();

    public sealed class ProviderEntry
    {
        public string Name { get; set; } = "";

        public string Kind { get; set; } = "";

        public string? BaseUrl { get; set; }

        public string? ApiKeyEnv { get; set; }

        public List<string> Models { get; set; } = [];
    }

    public sealed class PriceEntry
    {
        public string Provider { get; set; } = "";

        public string Model { get; set; } = "";

        public decimal InputPerMtok { get; set; }

        public decimal? CachedInputPerMtok { get; set; }

        public decimal? CacheWritePerMtok { get; set; }

        public decimal OutputPerMtok { get; set; }

        public string Currency { get; set; } = "USD";
    }

    public sealed class PlanEntry
    {
        public string Name { get; set; } = "";

        public List<string> Models { get; set; } = [];

        public decimal? DailyBudget { get; set; }

        public long? DailyRequests { get; set; }

        public Dictionary<string, long> ModelDailyRequests { get; set; } = [];

        public long? Rpm { get; set; }

        public long? Tpm { get; set; }

        public string TimeZone { get; set; } = "UTC";
    }

    public sealed class KeyEntry
    {
        public string? Id { get; set; }

        public string Name { get; set; } = "";

        public string? KeyHash { get; set; }

        public string? KeyEnv { get; set; }

        public string Role { get; set; } = VirtualKey.AppRole;

        public OwnerEntry? Owner { get; set; }

        public List<string> Models { get; set; } = [];

        public string? Plan { get; set; }

        public LimitEntry? Limits { get; set; }

        public BudgetEntry? Budget { get; set; }

        public DateTimeOffset? ExpiresAt { get; set; }
    }

    public sealed class OwnerEntry
    {
        public string? User { get; set; }

        public string? Team { get; set; }

        public string? Project { get; set; }

        public string? CostCenter { get; set; }

        public string? Customer { get; set; }

        public KeyOwner ToOwner() => new(User, Team, Project, CostCenter, Customer);
    }

    public sealed class BudgetEntry
    {
        public string Id { get; set; } = "";

        public string Scope { get; set; } = "";

        public string Subject { get; set; } = "";

        public string Period { get; set; } = "month";

        public decimal? Soft { get; set; }

        public decimal? Hard { get; set; }

        public string? TimeZone { get; set; }

        public decimal[]? Thresholds { get; set; }

        public BudgetSpec ToSpec() => new(Period, Soft, Hard, TimeZone, Thresholds);
    }

    public sealed class QuotaRuleEntry
    {
        public string Id { get; set; } = "";

        public string Name { get; set; } = "";

        public long LimitTokens { get; set; }

        public string Cycle { get; set; } = "day";

        public string TimeZone { get; set; } = "Asia/Shanghai";

        public List<string> Consumers { get; set; } = [];

        public bool Enabled { get; set; } = true;
    }

    public sealed class LimitEntry
    {
        public string Id { get; set; } = "";

        public string Scope { get; set; } = "";

        public string Subject { get; set; } = "";

        public long? Rpm { get; set; }

        public long? Tpm { get; set; }

        public decimal? MaxCostPerMinute { get; set; }

        public KeyLimits ToLimits() => new(Rpm, Tpm, MaxCostPerMinute);
    }

    /// <summary>A cache policy (docs/api.md "Response and embedding cache"): the admin API's fields and defaults; <c>id</c> is required.</summary>
    public sealed class CachePolicyEntry
    {
        public string Id { get; set; } = "";

        public string Scope { get; set; } = Caching.CachePolicy.Global;

        public string? Subject { get; set; }

        public bool Exact { get; set; } = true;

        public SemanticEntry Semantic { get; set; } = new();

        public int TtlSeconds { get; set; } = 3600;

        public string Share { get; set; } = "key";

        public List<string> Models { get; set; } = [];

        public bool Embeddings { get; set; } = true;

        public PromptCachingEntry PromptCaching { get; set; } = new();

        public Caching.CachePolicy ToPolicy(DateTimeOffset createdAt) => new(
            Id, Scope, Subject, Exact, new Caching.SemanticSettings(Semantic.Enabled, Semantic.Threshold), TtlSeconds, Share, [.. Models], Embeddings,
            new Caching.PromptCachingSettings(PromptCaching.AnthropicAuto, PromptCaching.OpenaiCacheKey), createdAt);
    }

    public sealed class SemanticEntry
    {
        public bool Enabled { get; set; }

        public double Threshold { get; set; } = 0.95;
    }

    public sealed class PromptCachingEntry
    {
        public bool AnthropicAuto { get; set; }

        public bool OpenaiCacheKey { get; set; }
    }

    /// <summary>A route (docs/api.md "Routes"): the admin API's fields; left-out ones take the same defaults.</summary>
    public sealed class RouteEntry
    {
        public string Name { get; set; } = "";

        public List<RouteTargetEntry> Targets { get; set; } = [];

        public List<RouteRuleEntry> Rules { get; set; } = [];

        public RouteDowngradeEntry? Downgrade { get; set; }

        public List<string> Fallbacks { get; set; } = [];

        public RetryEntry Retry { get; set; } = new();

        public CooldownEntry Cooldown { get; set; } = new();

        public bool DropUnsupportedParams { get; set; }

        public Route ToRoute(DateTimeOffset createdAt) => new(
            Name,
            [.. Targets.Select(t => new RouteTarget(t.Model, t.Weight))],
            [.. Rules.Select(r => new RouteRule(r.When.ToCondition(), r.Model))],
            Downgrade is { } d ? new RouteDowngrade(d.At, d.Model) : null,
            [.. Fallbacks],
            new RetryPolicy(Retry.Attempts, Retry.BackoffMs, [.. Retry.On]),
            new CooldownPolicy(Cooldown.Failures, Cooldown.Seconds),
            DropUnsupportedParams,
            createdAt);
    }

    public sealed class RouteTargetEntry
    {
        public string Model { get; set; } = "";

        public int Weight { get; set; } = 1;
    }

    public sealed class RouteRuleEntry
    {
        public RouteWhenEntry When { get; set; } = new();

        public string Model { get; set; } = "";
    }

    public sealed class RouteWhenEntry
    {
        public long? MinInputTokens { get; set; }

        public long? MaxInputTokens { get; set; }

        public bool? HasTools { get; set; }

        public bool? HasImages { get; set; }

        public string? Matches { get; set; }

        public string? Team { get; set; }

        public string? Project { get; set; }

        public string? Feature { get; set; }

        public string? Plan { get; set; }

        public Dictionary<string, string>? Header { get; set; }

        public string? Complexity { get; set; }

        public RouteCondition ToCondition() => new(MinInputTokens, MaxInputTokens, HasTools, HasImages, Matches, Team, Project, Feature, Plan, Header, Complexity);
    }

    public sealed class RouteDowngradeEntry
    {
        public decimal At { get; set; }

        public string Model { get; set; } = "";
    }

    /// <summary><c>on</c> lists HTTP statuses and failure names alike (<c>[429, 503, timeout]</c>).</summary>
    public sealed class RetryEntry
    {
        public int Attempts { get; set; } = RetryPolicy.Default.Attempts;

        public int BackoffMs { get; set; } = RetryPolicy.Default.BackoffMs;

        public List<string> On { get; set; } = [.. RetryPolicy.DefaultOn];
    }

    public sealed class CooldownEntry
    {
        public int Failures { get; set; } = CooldownPolicy.Default.Failures;

        public int Seconds { get; set; } = CooldownPolicy.Default.Seconds;
    }

    public sealed class PolicyEntry
    {
        public List<string> RequiredHeaders { get; set; } = [];
    }
}

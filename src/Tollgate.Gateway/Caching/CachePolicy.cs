using System.Text.Json.Serialization;
using Tollgate.Gateway.Keys;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// A response-cache policy (docs/api.md "Response and embedding cache"): which calls the cache may answer and store, how
/// long entries live and which namespace they live in. Without a policy that covers a call, nothing is cached.
/// </summary>
internal sealed record CachePolicy(
    string Id,
    string Scope,
    string? Subject,
    bool Exact,
    SemanticSettings Semantic,
    int TtlSeconds,
    string Share,
    IReadOnlyList<string> Models,
    bool Embeddings,
    PromptCachingSettings PromptCaching,
    DateTimeOffset CreatedAt)
{
    public const string Global = "global";

    public static readonly IReadOnlyList<string> Scopes = [Global, "key", "team", "project", "plan"];

    public static readonly IReadOnlyList<string> Shares = ["key", "team", Global];

    /// <summary>How specific the policy is: the most specific one that covers a call applies (key, team/project, plan, global).</summary>
    [JsonIgnore]
    public int Rank => Scope switch
    {
        "key" => 0,
        "team" => 1,
        "project" => 2,
        "plan" => 3,
        _ => 4,
    };

    public bool CoversModel(string model) => VirtualKey.ModelMatches(Models, model);

    /// <summary>
    /// The namespace a call's entries live in: its key's own unless the policy shares them with the key's team (a call
    /// without a team keeps its key's) or with every call the policy covers (the policy's own global namespace: two
    /// global policies do not share). Two calls share entries only when this is equal.
    /// </summary>
    public string NamespaceFor(string keyId, string? team) => Share switch
    {
        Global => Global + ":" + Id,
        "team" when !string.IsNullOrEmpty(team) => "team:" + team,
        _ => "key:" + keyId,
    };
}

/// <summary>Semantic matching: off unless enabled; a hit needs a cosine similarity of at least <see cref="Threshold"/>.</summary>
internal sealed record SemanticSettings(bool Enabled, double Threshold)
{
    public static readonly SemanticSettings Off = new(false, 0.95);
}

/// <summary>Provider prompt caching the gateway turns on for the calls of a policy.</summary>
internal sealed record PromptCachingSettings(bool AnthropicAuto, [property: JsonPropertyName("openai_cache_key")] bool OpenAiCacheKey)
{
    public static readonly PromptCachingSettings Off = new(false, false);
}

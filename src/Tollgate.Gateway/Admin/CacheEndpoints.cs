using System.Text.Json;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Admin;

/// <summary>
/// Admin API of the response cache (docs/api.md "Response and embedding cache"): <c>POST|GET /admin/cache-policies</c>,
/// <c>PATCH|DELETE /admin/cache-policies/{id}</c>, <c>DELETE /admin/cache?scope=&amp;subject=</c> (purge a namespace, or
/// everything). Authorization, audit and the announcement to other replicas are the admin group's filter.
/// </summary>
internal static class CacheEndpoints
{
    public static void MapCache(this RouteGroupBuilder admin)
    {
        admin.MapGet("/cache-policies", (CachePolicyTable policies) => AdminEndpoints.Json(policies.List()));
        admin.MapGet("/cache-policies/{id}", (string id, CachePolicyTable policies) =>
            policies.Find(id) is { } policy ? AdminEndpoints.Json(policy) : NotFound(id));
        admin.MapPost("/cache-policies", (HttpRequest http, CachePolicyTable policies, TextEmbedder embedder, TimeProvider time) => SaveAsync(null, http, policies, embedder, time));
        admin.MapPatch("/cache-policies/{id}", (string id, HttpRequest http, CachePolicyTable policies, TextEmbedder embedder, TimeProvider time) => SaveAsync(id, http, policies, embedder, time));
        admin.MapDelete("/cache-policies/{id}", (string id, CachePolicyTable policies) => policies.Delete(id) ? Results.NoContent() : NotFound(id));
        admin.MapDelete("/cache", PurgeAsync);
        admin.MapGet("/cache/stats", StatsAsync);
    }

    /// <summary>Checks a policy; the error names the field.</summary>
    public static (string Message, string Field)? Validate(CachePolicy p)
    {
        if (!CachePolicy.Scopes.Contains(p.Scope))
        {
            return ($"'scope' must be one of {string.Join(", ", CachePolicy.Scopes)}.", "scope");
        }

        if (p.Scope == CachePolicy.Global ? p.Subject is not null : string.IsNullOrWhiteSpace(p.Subject))
        {
            return (p.Scope == CachePolicy.Global ? "A global policy has no 'subject'." : $"A {p.Scope} policy needs a 'subject' (the {p.Scope} it applies to).", "subject");
        }

        if (!CachePolicy.Shares.Contains(p.Share))
        {
            return ($"'share' must be one of {string.Join(", ", CachePolicy.Shares)}.", "share");
        }

        if (p.TtlSeconds is < 1 or > 31_536_000)
        {
            return ("'ttl_seconds' must be between 1 and 31536000 (a year).", "ttl_seconds");
        }

        if (p.Models.Any(string.IsNullOrWhiteSpace))
        {
            return ("'models' entries must be model names (provider/model, provider/*, or a route).", "models");
        }

        if (p.Semantic.Threshold is <= 0 or > 1 || double.IsNaN(p.Semantic.Threshold))
        {
            return ("'semantic.threshold' must be in (0, 1].", "semantic.threshold");
        }

        return null;
    }

    private static IResult NotFound(string id) => AdminEndpoints.NotFound($"No cache policy with id '{id}'.");

    /// <summary>Creates (id null) or edits a policy: an edit changes only the fields the body gives.</summary>
    private static async Task<IResult> SaveAsync(string? id, HttpRequest http, CachePolicyTable policies, TextEmbedder embedder, TimeProvider time)
    {
        CachePolicy? existing = null;
        if (id is not null && (existing = policies.Find(id)) is null)
        {
            return NotFound(id);
        }

        var (body, error) = await AdminEndpoints.ReadAsync<PolicyRequest>(http);
        if (body is null)
        {
            return error!;
        }

        var start = existing ?? new CachePolicy(KeyHash.NewId("cp_"), CachePolicy.Global, null, true, SemanticSettings.Off, 3600, "key", [], true, PromptCachingSettings.Off, time.GetUtcNow());
        var policy = body.ApplyTo(start);
        if (Validate(policy) is { } invalid)
        {
            return AdminEndpoints.Invalid(invalid.Message, invalid.Field);
        }

        policies.Save(policy);
        if (policy.Semantic.Enabled && !embedder.Loaded)
        {
            _ = Task.Run(embedder.Warm); // the model loads now, not on the policy's first call
        }

        return existing is null ? Results.Json(policy, StoreJson.Options, statusCode: 201) : AdminEndpoints.Json(policy);
    }

    /// <summary>
    /// Purges one namespace (<c>scope=key|team&amp;subject=…</c>; <c>scope=global</c> every policy's global namespace, or
    /// with <c>subject=&lt;policy id&gt;</c> that policy's) or, without parameters, every entry.
    /// </summary>
    private static async Task<IResult> PurgeAsync(HttpRequest http, ResponseCache cache)
    {
        var scope = http.Query["scope"].ToString();
        var subject = http.Query["subject"].ToString();
        string? ns;
        if (scope.Length == 0 && subject.Length == 0)
        {
            ns = null;
        }
        else if (scope == CachePolicy.Global)
        {
            ns = subject.Length > 0 ? CachePolicy.Global + ":" + subject : CachePolicy.Global; // a policy's global namespace, or all of them
        }
        else if (scope is "key" or "team" && subject.Length > 0)
        {
            ns = scope + ":" + subject;
        }
        else
        {
            return AdminEndpoints.Invalid("Purge a namespace with scope=key|team and a subject, or scope=global; no parameters purges everything.", "scope");
        }

        var purged = await cache.PurgeAsync(ns);
        return AdminEndpoints.Json(new { purged });
    }

    /// <summary>Hits, misses and savings of a time range from the ledger (default: everything), and what the store holds now.</summary>
    private static async Task<IResult> StatsAsync(HttpRequest http, Ledger.UsageQuery usage, ResponseCache cache, TimeProvider time)
    {
        var (from, to, invalid) = AdminEndpoints.TimeRange(http, time);
        if (invalid is not null)
        {
            return invalid;
        }

        var stats = await usage.CacheStatsAsync(from, to, http.HttpContext.RequestAborted);
        var (entries, bytes) = await cache.Store.CountAsync();
        return AdminEndpoints.Json(new
        {
            stats.Requests,
            stats.ExactHits,
            stats.SemanticHits,
            stats.Misses,
            stats.HitRate,
            stats.CacheSavings,
            stats.ProviderCacheSavings,
            entries,
            bytes,
        });
    }

    /// <summary>A POST or PATCH body; every field optional, so that a PATCH can give only some.</summary>
    private sealed record PolicyRequest(
        string? Scope,
        string? Subject,
        bool? Exact,
        SemanticRequest? Semantic,
        int? TtlSeconds,
        string? Share,
        IReadOnlyList<string>? Models,
        bool? Embeddings,
        PromptCachingRequest? PromptCaching)
    {
        public CachePolicy ApplyTo(CachePolicy p) => p with
        {
            Scope = Scope ?? p.Scope,
            Subject = Scope is not null || Subject is not null ? Subject : p.Subject,
            Exact = Exact ?? p.Exact,
            Semantic = Semantic is null ? p.Semantic : new SemanticSettings(Semantic.Enabled ?? p.Semantic.Enabled, Semantic.Threshold ?? p.Semantic.Threshold),
            TtlSeconds = TtlSeconds ?? p.TtlSeconds,
            Share = Share ?? p.Share,
            Models = Models ?? p.Models,
            Embeddings = Embeddings ?? p.Embeddings,
            PromptCaching = PromptCaching is null ? p.PromptCaching
                : new PromptCachingSettings(PromptCaching.AnthropicAuto ?? p.PromptCaching.AnthropicAuto, PromptCaching.OpenAiCacheKey ?? p.PromptCaching.OpenAiCacheKey),
        };
    }

    private sealed record SemanticRequest(bool? Enabled, double? Threshold);

    private sealed record PromptCachingRequest(bool? AnthropicAuto, [property: System.Text.Json.Serialization.JsonPropertyName("openai_cache_key")] bool? OpenAiCacheKey);
}

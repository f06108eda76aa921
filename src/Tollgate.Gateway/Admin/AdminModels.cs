using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Admin;

internal sealed record ProviderRequest(string? Name, string? Kind, string? BaseUrl, string? ApiKey, string[]? Models);

internal sealed record ProviderView(string Name, string Kind, string BaseUrl, string[] Models, bool HasApiKey, DateTimeOffset CreatedAt)
{
    public static ProviderView From(Provider p) => new(p.Name, p.Kind.ToWire(), p.BaseUrl, [.. p.Models], p.ApiKey is not null, p.CreatedAt);
}

internal sealed record PriceRequest(decimal? InputPerMtok, decimal? CachedInputPerMtok, decimal? CacheWritePerMtok, decimal? OutputPerMtok, string? Currency);

internal sealed record PriceView(string Provider, string Model, decimal InputPerMtok, decimal CachedInputPerMtok, decimal CacheWritePerMtok, decimal OutputPerMtok, string Currency, string Source)
{
    public static PriceView From(string provider, string model, ModelPrice p, bool builtIn) =>
        new(provider, model, p.InputPerMtok, p.CachedInputPerMtok, p.CacheWritePerMtok, p.OutputPerMtok, p.Currency, builtIn ? "builtin" : "override");
}

internal sealed record KeyRequest(
    string? Name,
    string? Role,
    KeyOwner? Owner,
    string[]? Models,
    DateTimeOffset? ExpiresAt,
    string? Plan,
    Governance.KeyLimits? Limits,
    Governance.BudgetSpec? Budget);

internal sealed record KeyView(
    string Id,
    string? Key,
    string Prefix,
    string Name,
    string Role,
    KeyOwner Owner,
    string[] Models,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    bool Active,
    Governance.KeyLimits? Limits,
    Governance.BudgetSpec? Budget,
    string? Plan,
    DateTimeOffset? LastUsedAt)
{
    /// <param name="lastUsedAt">The key's latest usage record (<see cref="Storage.KeyLastUse"/>); only the key list and a key's GET show it.</param>
    public static KeyView From(VirtualKey k, DateTimeOffset now, string? secret = null, DateTimeOffset? lastUsedAt = null) =>
        new(k.Id, secret, k.Prefix, k.Name, k.Role, k.Owner, [.. k.Models], k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.IsActive(now), k.Limits, k.Budget, k.Plan, lastUsedAt);
}

/// <summary>A slice of a newest-first list: at most <see cref="Limit"/> items after skipping <see cref="Offset"/>.</summary>
internal readonly record struct Page(long Limit, long Offset);

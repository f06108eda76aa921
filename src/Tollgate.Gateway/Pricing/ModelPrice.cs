using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Pricing;

/// <summary>Prices per million tokens.</summary>
internal sealed record ModelPrice(decimal InputPerMtok, decimal CachedInputPerMtok, decimal CacheWritePerMtok, decimal OutputPerMtok, string Currency)
{
    private const decimal Million = 1_000_000m;

    /// <summary>uncached input × input + cache reads × cached + cache writes × cache write + output × output, rounded to 10 decimals.</summary>
    public decimal Cost(in TokenUsage usage)
    {
        var uncached = Math.Max(0, usage.Input - usage.Cached - usage.CacheWrite);
        var cost = ((uncached * InputPerMtok) + (usage.Cached * CachedInputPerMtok) + (usage.CacheWrite * CacheWritePerMtok) + (usage.Output * OutputPerMtok)) / Million;
        return Math.Round(cost, 10, MidpointRounding.ToEven);
    }

    /// <summary>
    /// What the provider's own prompt cache saved on a call: its cache reads × (input price − cached input price), rounded
    /// to 10 decimals; never negative (a cached price above the input price saves nothing).
    /// </summary>
    public decimal ProviderCacheSavings(in TokenUsage usage) =>
        usage.Cached <= 0 || CachedInputPerMtok >= InputPerMtok ? 0m : Math.Round(usage.Cached * (InputPerMtok - CachedInputPerMtok) / Million, 10, MidpointRounding.ToEven);
}

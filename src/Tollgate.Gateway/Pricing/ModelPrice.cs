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
}

namespace Tollgate.Gateway.Metering;

/// <summary>
/// Token counts with one meaning for every provider (docs/api.md "Usage"): <see cref="Input"/> is all input, cache reads
/// and writes included; <see cref="Output"/> is all output, reasoning included.
/// </summary>
internal readonly record struct TokenUsage(long Input, long Cached, long CacheWrite, long Output, long Reasoning)
{
    public long Total => Input + Output;
}

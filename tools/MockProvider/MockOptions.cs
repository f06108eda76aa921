namespace Tollgate.MockProvider;

/// <summary>
/// Defaults for the usage and timing the mock reports. Every value can be overridden per request
/// with an <c>x-mock-*</c> header (see <see cref="MockPlan"/>), so tests state exactly what they expect.
/// </summary>
internal sealed class MockOptions
{
    /// <summary>Total input tokens (OpenAI <c>prompt_tokens</c>; cached reads and cache writes included).</summary>
    public int PromptTokens { get; set; } = 12;

    /// <summary>Total output tokens (reasoning included), capped by the request's max tokens.</summary>
    public int CompletionTokens { get; set; } = 8;

    public int CachedTokens { get; set; }

    public int CacheWriteTokens { get; set; }

    public int ReasoningTokens { get; set; }

    /// <summary>Delay before the response starts.</summary>
    public int LatencyMs { get; set; }

    /// <summary>Delay between stream chunks.</summary>
    public int ChunkDelayMs { get; set; }

    public int EmbeddingDimensions { get; set; } = 8;
}

using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Tollgate.MockProvider;

/// <summary>What one mock response will look like: the options, overridden by the request's <c>x-mock-*</c> headers.</summary>
internal sealed record MockPlan(
    int PromptTokens,
    int CompletionTokens,
    int CachedTokens,
    int CacheWriteTokens,
    int ReasoningTokens,
    int LatencyMs,
    int ChunkDelayMs,
    int? Status,
    int? AbortAfterChunks)
{
    /// <param name="body">The request, for <see cref="MockInputCount"/> when the request asks the mock to count its input.</param>
    public static MockPlan From(HttpRequest request, MockOptions options, int? maxTokens, System.Text.Json.JsonElement body = default)
    {
        var completion = Header(request, "x-mock-completion-tokens") ?? options.CompletionTokens;
        var truncated = maxTokens is { } max && max >= 0 && completion > max;
        if (truncated)
        {
            completion = maxTokens!.Value;
        }

        return new MockPlan(
            Header(request, "x-mock-prompt-tokens") ?? MockInputCount.FromRequest(request, body) ?? options.PromptTokens,
            completion,
            Header(request, "x-mock-cached-tokens") ?? options.CachedTokens,
            Header(request, "x-mock-cache-write-tokens") ?? options.CacheWriteTokens,
            Math.Min(completion, Header(request, "x-mock-reasoning-tokens") ?? options.ReasoningTokens),
            Header(request, "x-mock-latency-ms") ?? options.LatencyMs,
            Header(request, "x-mock-chunk-delay-ms") ?? options.ChunkDelayMs,
            Header(request, "x-mock-status"),
            Header(request, "x-mock-abort-after-chunks"))
        {
            Truncated = truncated,
        };
    }

    /// <summary>True when the requested completion was cut short by the request's max tokens.</summary>
    public bool Truncated { get; init; }

    /// <summary>The visible words of the answer: one word per visible output token.</summary>
    public IEnumerable<string> Words()
    {
        var visible = CompletionTokens - ReasoningTokens;
        for (var i = 0; i < visible; i++)
        {
            yield return (i == 0 ? "" : " ") + Vocabulary[i % Vocabulary.Length];
        }
    }

    public string Text() => string.Concat(Words());

    private static readonly string[] Vocabulary =
        ["Tollgate", "meters", "every", "token", "that", "passes", "through", "the", "gateway", "and", "bills", "it", "exactly"];

    private static int? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var value)
        && int.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
}

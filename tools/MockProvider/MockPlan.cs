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
    /// <param name="body">The request, for <see cref="MockInputCount"/> when the request asks the mock to count its input.
    /// Its model can ask for a failure too, so that one target of a route fails and another answers: <c>fail-429</c> (any, <c>fail-context</c> (a 400 saying the prompt is longer than the model's context), <c>slow-2000</c> (latency in ms).</param>
    public static MockPlan From(HttpRequest request, MockOptions options, int? maxTokens, System.Text.Json.JsonElement body = default)
    {
        var model = body.ValueKind == System.Text.Json.JsonValueKind.Object && body.TryGetProperty("model", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.String ? m.GetString() ?? "" : "";
        var contextTooLong = model.StartsWith("fail-context", StringComparison.Ordinal);
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
            Header(request, "x-mock-latency-ms") ?? ModelNumber(model, "slow-") ?? options.LatencyMs,
            Header(request, "x-mock-chunk-delay-ms") ?? options.ChunkDelayMs,
            Header(request, "x-mock-status") ?? ModelNumber(model, "fail-") ?? (contextTooLong ? 400 : null),
            Header(request, "x-mock-abort-after-chunks"))
        {
            Truncated = truncated,
            ContextTooLong = contextTooLong,
        };
    }

    /// <summary>The failure is a prompt longer than the model's context (the model <c>fail-context</c>).</summary>
    public bool ContextTooLong { get; init; }

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

    /// <summary>The number after <paramref name="prefix"/> in a model name such as <c>fail-429</c> or <c>fail-429-any-suffix</c>.</summary>
    private static int? ModelNumber(string model, string prefix)
    {
        if (!model.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var digits = model.AsSpan(prefix.Length);
        var end = digits.IndexOfAnyExceptInRange('0', '9');
        return int.TryParse(end < 0 ? digits : digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private static int? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var value)
        && int.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
}

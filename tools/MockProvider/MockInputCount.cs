using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.ML.Tokenizers;

namespace Tollgate.MockProvider;

/// <summary>
/// Input counted the way real providers count it, which is more than a gateway's tokenizer sees: OpenAI's chat template
/// adds tokens per message and to prime the reply; Anthropic's and Gemini's tokenizers count 10–30 % more than o200k.
/// A request opts in with <c>x-mock-input-factor</c> (text tokens × factor, rounded up), <c>x-mock-tokens-per-message</c>
/// and <c>x-mock-tokens-per-reply</c>; without them the mock reports its configured prompt tokens.
/// </summary>
internal static class MockInputCount
{
    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    internal static int? FromRequest(HttpRequest request, JsonElement body)
    {
        var factor = Number(request, "x-mock-input-factor");
        var perMessage = Number(request, "x-mock-tokens-per-message");
        var perReply = Number(request, "x-mock-tokens-per-reply");
        if ((factor ?? perMessage ?? perReply) is null || body.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return Count(body, factor ?? 1, (int)(perMessage ?? 0), (int)(perReply ?? 0));
    }

    /// <summary>
    /// ⌈factor × Σ o200k(each text string)⌉ + perMessage × messages + perReply. Text: every role, every message content
    /// (string or text parts), Anthropic's <c>system</c> (a message of its own here) and embeddings' <c>input</c>.
    /// </summary>
    public static int Count(JsonElement body, double factor, int perMessage, int perReply)
    {
        long text = 0;
        var messages = 0;
        if (body.TryGetProperty("system", out var system))
        {
            text += Text(system);
            messages++;
        }

        if (body.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in list.EnumerateArray())
            {
                messages++;
                if (message.TryGetProperty("role", out var role))
                {
                    text += Text(role);
                }

                if (message.TryGetProperty("content", out var content))
                {
                    text += Text(content);
                }
            }
        }

        if (body.TryGetProperty("input", out var input))
        {
            text += Text(input);
        }

        return (int)Math.Ceiling(text * factor) + (messages * perMessage) + (messages > 0 ? perReply : 0);
    }

    /// <summary>The tokens of a string, of the <c>text</c> of content parts, or of each string in an array.</summary>
    private static long Text(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return O200k.Value.CountTokens(value.GetString()!);
            case JsonValueKind.Array:
                long sum = 0;
                foreach (var item in value.EnumerateArray())
                {
                    sum += item.ValueKind == JsonValueKind.Object && item.TryGetProperty("text", out var t) ? Text(t) : Text(item);
                }

                return sum;
            default:
                return 0;
        }
    }

    private static double? Number(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var value)
        && double.TryParse(value.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
}

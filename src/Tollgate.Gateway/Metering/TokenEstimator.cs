using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Tollgate.Gateway.Metering;

/// <summary>
/// Token estimates with the o200k tokenizer (GPT-4o and later; within a few percent for Claude) for calls
/// whose provider reported no usage. Estimates are marked <c>estimated</c> in the ledger.
/// </summary>
internal static class TokenEstimator
{
    /// <summary>OpenAI's documented chat-template overhead: tokens added per message, and once to prime the reply.</summary>
    public const int TokensPerMessage = 3;

    public const int TokensPerReply = 3;

    private static readonly Lazy<Tokenizer> Tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>
    /// The input tokens a request will be billed, as well as the gateway can tell before the provider answers: the tokens
    /// of every string value in the body (property names excluded) plus the chat template's overhead per message (one per
    /// <c>role</c>) and for the reply. Providers count more still (Anthropic's tokenizer, images): reservations scale
    /// this by a calibrated factor (<see cref="Governance.InputCalibration"/>).
    /// </summary>
    public static long EstimateInput(ReadOnlySpan<byte> json) => EstimateInput(json, out _);

    /// <param name="json">The request body.</param>
    /// <param name="marksCache">True when the request places a <c>cache_control</c> breakpoint, so the provider may bill cache writes.</param>
    public static long EstimateInput(ReadOnlySpan<byte> json, out bool marksCache)
    {
        var tokens = CountStrings(json, out var messages, out marksCache);
        return messages == 0 ? tokens : tokens + (messages * (long)TokensPerMessage) + TokensPerReply;
    }

    /// <summary>
    /// The strings of a JSON document joined by spaces and tokenized in one pass. o200k folds a leading space into the
    /// next word's token, so the count stays that of the strings counted one by one (or a token more where a string
    /// starts with punctuation), for a fraction of the work.
    /// </summary>
    private static long CountStrings(ReadOnlySpan<byte> json, out int messages, out bool marksCache)
    {
        messages = 0;
        marksCache = false;
        // Unescaped text never has more UTF-16 chars than its UTF-8 bytes, and each separator replaces a closing quote.
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(json.Length, 16));
        var length = 0;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    length += reader.CopyString(chars.AsSpan(length));
                    chars[length++] = ' ';
                }
                else if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("role"u8))
                    {
                        messages++;
                    }
                    else if (reader.ValueTextEquals("cache_control"u8))
                    {
                        marksCache = true;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A body that is not JSON (it was validated on the way in, so this is a truncated response): count what was read.
        }

        try
        {
            return length == 0 ? 0 : Tokenizer.Value.CountTokens(chars.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>Counts the tokens of UTF-8 text.</summary>
    public static long CountText(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return 0;
        }

        var chars = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(utf8.Length));
        try
        {
            var count = Encoding.UTF8.GetChars(utf8, chars);
            return Tokenizer.Value.CountTokens(chars.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Tollgate.Gateway.Metering;

/// <summary>
/// Token estimates with the o200k tokenizer (GPT-4o and later; within a few percent for Claude) for calls
/// whose provider reported no usage. Estimates are marked <c>estimated</c> in the ledger.
/// </summary>
public static class TokenEstimator
{
    private static readonly Lazy<Tokenizer> Tokenizer = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>
    /// Counts the tokens of every string value in a JSON document (property names excluded), joined by spaces and
    /// tokenized in one pass. o200k folds a leading space into the next word's token, so the count stays that of the
    /// strings counted one by one (or a token more where a string starts with punctuation), for a fraction of the work.
    /// </summary>
    public static long CountJsonStrings(ReadOnlySpan<byte> json)
    {
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

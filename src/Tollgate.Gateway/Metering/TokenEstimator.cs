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

    /// <summary>Counts the tokens of every string value in a JSON document (property names excluded).</summary>
    public static long CountJsonStrings(ReadOnlySpan<byte> json)
    {
        long total = 0;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        var chars = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.String)
                {
                    continue;
                }

                var needed = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
                if (needed > chars.Length)
                {
                    ArrayPool<char>.Shared.Return(chars);
                    chars = ArrayPool<char>.Shared.Rent(needed);
                }

                var written = reader.CopyString(chars);
                total += Tokenizer.Value.CountTokens(chars.AsSpan(0, written));
            }
        }
        catch (JsonException)
        {
            // A body that is not JSON (it was validated on the way in, so this is a truncated response): count what was read.
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }

        return total;
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

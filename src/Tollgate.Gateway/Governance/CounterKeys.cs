using System.Collections.Concurrent;
using System.Globalization;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Counter keys (<c>quota:{rule}:{consumer}:{cycle start}</c>, <c>rpm:key:{id}</c>, …) repeat on every call of the
/// same subject in the same period. They are joined on the stack and looked up here, so the hot path allocates each
/// key once per period instead of once per call.
/// </summary>
internal static class CounterKeys
{
    private const int MaxEntries = 100_000;
    private static readonly ConcurrentDictionary<string, string> Known = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars = Known.GetAlternateLookup<ReadOnlySpan<char>>();
    private static int _count;

    /// <summary>The parts joined by <c>:</c>.</summary>
    public static string Join(params ReadOnlySpan<string> parts) => Join(null, parts);

    /// <summary>The parts joined by <c>:</c>, then <c>:</c> and the number (a period start in Unix seconds).</summary>
    public static string Join(long number, params ReadOnlySpan<string> parts) => Join((long?)number, parts);

    private static string Join(long? number, ReadOnlySpan<string> parts)
    {
        var length = number is null ? -1 : 21;
        foreach (var part in parts)
        {
            length += part.Length + 1;
        }

        var buffer = length <= 256 ? stackalloc char[256] : new char[length];
        var written = 0;
        foreach (var part in parts)
        {
            if (written > 0)
            {
                buffer[written++] = ':';
            }

            part.CopyTo(buffer[written..]);
            written += part.Length;
        }

        if (number is { } n)
        {
            buffer[written++] = ':';
            n.TryFormat(buffer[written..], out var digits, provider: CultureInfo.InvariantCulture);
            written += digits;
        }

        var key = buffer[..written];
        if (ByChars.TryGetValue(key, out var known))
        {
            return known;
        }

        // Keys of past periods are dead weight: start over rather than track them (the next calls re-add the live ones).
        if (Interlocked.Increment(ref _count) > MaxEntries)
        {
            Known.Clear();
            Interlocked.Exchange(ref _count, 0);
        }

        var text = key.ToString();
        return Known.GetOrAdd(text, text);
    }
}

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
    /// <summary>Keys one generation holds before it becomes the old one; at most twice this many are kept.</summary>
    internal const int GenerationSize = 50_000;

    /// <summary>Guards the turn of generations only; look-ups and adds are lock-free.</summary>
    private static readonly Lock Turn = new();

    private static Generation _young = new();
    private static Generation _old = new();

    /// <summary>How many keys are interned now (both generations; a key in both counts twice).</summary>
    internal static int Count => _young.Count + _old.Count;

    /// <summary>The parts joined by <c>:</c>.</summary>
    public static string Join(params ReadOnlySpan<string> parts) => Join(null, parts);

    /// <summary>The parts joined by <c>:</c>, then <c>:</c> and the number (a period start in Unix seconds).</summary>
    public static string Join(long number, params ReadOnlySpan<string> parts) => Join((long?)number, parts);

    /// <summary>A budget's spend in the period starting at <paramref name="start"/>.</summary>
    public static string Budget(string scope, string subject, BudgetSpec spec, DateTimeOffset start) =>
        Join(start.ToUnixTimeSeconds(), "budget", scope, subject, spec.Period);

    /// <summary>A quota consumer's tokens in the cycle starting at <paramref name="start"/>.</summary>
    public static string Quota(QuotaRule rule, string consumer, DateTimeOffset start) =>
        Join(start.ToUnixTimeSeconds(), "quota", rule.Id, consumer);

    /// <summary>A key's requests to one model on the plan day starting at <paramref name="start"/>.</summary>
    public static string PlanModel(Plan plan, string keyId, string model, DateTimeOffset start) =>
        Join(start.ToUnixTimeSeconds(), "plan-model-requests", plan.Name, keyId, model);

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

        return Intern(buffer[..written]);
    }

    /// <summary>
    /// Two generations instead of one set cleared when full: a key in use is found in the young one or carried over from
    /// the old one, so only keys nobody asked for during a whole generation (past periods' keys) are dropped, and a full
    /// cache never makes every live key allocate again at once.
    /// </summary>
    private static string Intern(ReadOnlySpan<char> key)
    {
        var young = _young;
        if (young.ByChars.TryGetValue(key, out var known))
        {
            return known;
        }

        var text = _old.ByChars.TryGetValue(key, out var old) ? old : key.ToString();
        if (young.Count >= GenerationSize)
        {
            lock (Turn)
            {
                if (ReferenceEquals(_young, young))
                {
                    _old = young;
                    _young = young = new Generation();
                }
                else
                {
                    young = _young;
                }
            }
        }

        return young.Add(text);
    }

    private sealed class Generation
    {
        private readonly ConcurrentDictionary<string, string> _keys = new(StringComparer.Ordinal);
        private int _count;

        public Generation() => ByChars = _keys.GetAlternateLookup<ReadOnlySpan<char>>();

        public ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars { get; }

        public int Count => Volatile.Read(ref _count);

        public string Add(string key)
        {
            var stored = _keys.GetOrAdd(key, key);
            if (ReferenceEquals(stored, key))
            {
                Interlocked.Increment(ref _count);
            }

            return stored;
        }
    }
}

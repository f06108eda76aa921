using System.Globalization;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Tests.Infrastructure;

/// <summary>
/// Usage records with every report dimension drawn from a few values (null among them), at random instants of a time
/// span, and what the ledger should report for them, computed here record by record: the reference the roll-ups and
/// the reports built on them are checked against.
/// </summary>
internal static class LedgerSample
{
    /// <summary>The report dimensions (group_by names) and each one's value in a record.</summary>
    public static readonly IReadOnlyDictionary<string, Func<UsageRecord, string?>> Dimensions = new Dictionary<string, Func<UsageRecord, string?>>(StringComparer.Ordinal)
    {
        ["key"] = r => r.KeyId,
        ["team"] = r => r.Attribution.Team,
        ["project"] = r => r.Attribution.Project,
        ["user"] = r => r.Attribution.User,
        ["cost_center"] = r => r.Attribution.CostCenter,
        ["customer"] = r => r.Attribution.Customer,
        ["agent"] = r => r.Attribution.Agent,
        ["feature"] = r => r.Attribution.Feature,
        ["environment"] = r => r.Attribution.Environment,
        ["session"] = r => r.Attribution.Session,
        ["model"] = r => r.RequestedModel,
        ["provider"] = r => r.Provider,
        ["day"] = r => r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["month"] = r => r.Timestamp.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture),
    };

    public static List<UsageRecord> Records(int count, DateTimeOffset start, TimeSpan span, int seed)
    {
        var random = new Random(seed);
        string? Pick(params string?[] values) => values[random.Next(values.Length)];
        // The response cache's fields come from a generator of their own, so the other fields stay what they were.
        var cache = new Random(seed + 1_000_000);
        var records = new List<UsageRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var provider = Pick("mock", "other")!;
            var input = random.Next(1, 5000);
            var cached = random.Next(0, input);
            var hit = cache.Next(6) switch { 0 => "exact", 1 => "semantic", _ => null };
            records.Add(new UsageRecord
            {
                Id = Guid.CreateVersion7().ToString(),
                Timestamp = start.AddMilliseconds(random.NextInt64((long)span.TotalMilliseconds)),
                KeyId = Pick("key_a", "key_b", "key_c", null),
                Attribution = new Attribution(Pick("ann", "bob", null), Pick("ml", "search", null), Pick("p1", "p2", null), Pick("cc1", null), Pick("acme", "globex", null),
                    Pick("chat", "summary", null), Pick("prod", "staging", null), Pick("agent-1", null), Pick("s1", "s2", "s3", null)),
                Operation = "chat",
                Provider = provider,
                RequestedModel = provider + "/" + Pick("small", "large"),
                InputTokens = input,
                CachedTokens = cached,
                CacheWriteTokens = random.Next(0, 10),
                OutputTokens = random.Next(0, 2000),
                ReasoningTokens = random.Next(0, 50),
                Cost = random.Next(0, 1_000_000) / 10_000_000_000m * 7,
                CacheSavings = random.Next(0, 3) / 1000m,
                RoutingSavings = random.Next(0, 2) / 100m,
                Status = 200,
                CacheHit = hit,
                ProviderCacheSavings = hit is null ? cache.Next(0, 1_000_000) / 10_000_000_000m * 3 : 0m,
                Attempt = hit is null && cache.Next(5) == 0 ? 2 : 1,
            });
        }

        return records;
    }

    /// <summary>
    /// The rows <c>/admin/usage</c> should return for these records, as <see cref="Row"/> strings sorted ordinally: the
    /// records in [from, to) that match every filter, grouped by <paramref name="groupBy"/>.
    /// </summary>
    public static List<string> Expected(IEnumerable<UsageRecord> records, DateTimeOffset from, DateTimeOffset to, string[] groupBy, IReadOnlyDictionary<string, string>? filters = null) =>
        [.. records.Where(r => r.Timestamp >= from && r.Timestamp < to && (filters ?? new Dictionary<string, string>()).All(f => Dimensions[f.Key](r) == f.Value))
            .GroupBy(r => string.Join("|", groupBy.Select(g => Dimensions[g](r) ?? "null")), StringComparer.Ordinal)
            .Select(g => Row(g.Key, g.Count(), g.Sum(r => r.InputTokens), g.Sum(r => r.CachedTokens), g.Sum(r => r.CacheWriteTokens), g.Sum(r => r.OutputTokens), g.Sum(r => r.ReasoningTokens),
                g.Sum(r => Money.ToE10(r.Cost)), g.Sum(r => Money.ToE10(r.CacheSavings)), g.Sum(r => Money.ToE10(r.RoutingSavings)),
                g.Count(r => r.CacheHit is not null), g.Sum(r => Money.ToE10(r.ProviderCacheSavings))))
            .Order(StringComparer.Ordinal)];

    /// <summary>The rows of a <c>/admin/usage</c> answer in <see cref="Expected"/>'s form.</summary>
    public static List<string> Actual(System.Text.Json.JsonElement rows, string[] groupBy) =>
        [.. rows.EnumerateArray().Select(r => Row(string.Join("|", groupBy.Select(g => r.GetProperty(g).GetString() ?? "null")),
            r.GetProperty("requests").GetInt64(), r.GetProperty("input_tokens").GetInt64(), r.GetProperty("cached_tokens").GetInt64(), r.GetProperty("cache_write_tokens").GetInt64(),
            r.GetProperty("output_tokens").GetInt64(), r.GetProperty("reasoning_tokens").GetInt64(), Money.ToE10(r.GetProperty("cost").GetDecimal()),
            Money.ToE10(r.GetProperty("cache_savings").GetDecimal()), Money.ToE10(r.GetProperty("routing_savings").GetDecimal()),
            r.GetProperty("cache_hits").GetInt64(), Money.ToE10(r.GetProperty("provider_cache_savings").GetDecimal())))
            .Order(StringComparer.Ordinal)];

    private static string Row(string group, params long[] figures) => group + " → " + string.Join(' ', figures);
}

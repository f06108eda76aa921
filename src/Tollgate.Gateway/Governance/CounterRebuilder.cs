using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Rebuilds the current periods' counters from the ledger (at start, when the counter store lost its data, and when a
/// budget, rule or plan is created or moved to another period), so a restart or a new limit starts from what was really
/// spent this period. Counters that exist are never overwritten.
/// </summary>
internal sealed class CounterRebuilder(ICounterStore counters, GovernanceStore config, LinePlanner planner, TimeProvider time, UsageQuery query, LedgerWriter ledger)
{
    /// <summary>A quota counter and its input/output/cached breakdown: <c>quota:…</c>, <c>quota:…:in</c>, ….</summary>
    internal static readonly string[] QuotaSuffixes = ["", "in", "out", "cached"];

    public async Task RebuildAsync(VirtualKey[] keys)
    {
        await ledger.FlushAsync();
        var now = time.GetUtcNow();
        var snapshot = config.Current;
        foreach (var key in keys)
        {
            if (key.Budget is { } spec)
            {
                await RebuildBudgetAsync("key", key.Id, spec, now);
            }

            if (planner.PlanOf(key) is { } plan)
            {
                await RebuildPlanAsync(plan, key, now);
            }
        }

        foreach (var budget in snapshot.Budgets)
        {
            await RebuildBudgetAsync(budget.Scope, budget.Subject, budget.Spec, now);
        }

        foreach (var rule in snapshot.QuotaRules)
        {
            await RebuildQuotaAsync(rule, now);
        }
    }

    public async Task RebuildBudgetAsync(string scope, string subject, BudgetSpec spec, DateTimeOffset now)
    {
        await ledger.FlushAsync(); // every call made so far counts
        var (start, end) = Periods.Current(spec.Period, Periods.FindZone(spec.Zone) ?? TimeZoneInfo.Utc, now);
        var spent = Sum(scope, subject, start, end).CostE10;
        await counters.InitializeAsync(CounterKeys.Budget(scope, subject, spec, start), spent, end, now);
    }

    /// <summary>A plan's daily counters for one key: today's spend, requests and per-model requests from the ledger.</summary>
    public async Task RebuildPlanAsync(Plan plan, VirtualKey key, DateTimeOffset now)
    {
        await ledger.FlushAsync(); // every call made so far counts
        var lines = new List<Line>();
        LinePlanner.AddPlan(lines, plan, key, "", now);
        foreach (var line in lines)
        {
            if (line.Source != LineSource.Rate)
            {
                var totals = Sum(Scope.Key.Name, key.Id, line.Start, line.End);
                var value = line.Measure == Measure.Money ? totals.CostE10 : totals.Requests;
                await counters.InitializeAsync(line.Key, value, line.End, now);
            }
        }

        var (start, end) = Periods.Current("day", Periods.FindZone(plan.TimeZone) ?? TimeZoneInfo.Utc, now);
        foreach (var model in plan.ModelDailyRequests.Keys)
        {
            await counters.InitializeAsync(CounterKeys.PlanModel(plan, key.Id, model, start), Sum(Scope.Key.Name, key.Id, start, end, model).Requests, end, now);
        }
    }

    public async Task RebuildQuotaAsync(QuotaRule rule, DateTimeOffset now)
    {
        await ledger.FlushAsync(); // every call made so far counts
        var (start, end) = Periods.Current(rule.Cycle, Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc, now);
        foreach (var consumer in rule.Consumers)
        {
            var colon = consumer.IndexOf(':', StringComparison.Ordinal);
            var totals = Sum(consumer[..colon], consumer[(colon + 1)..], start, end);
            long[] sums = [totals.InputTokens + totals.OutputTokens, totals.InputTokens, totals.OutputTokens, totals.CachedTokens];
            var key = CounterKeys.Quota(rule, consumer, start);
            for (var i = 0; i < QuotaSuffixes.Length; i++)
            {
                await counters.InitializeAsync(i == 0 ? key : CounterKeys.Join(key, QuotaSuffixes[i]), sums[i], end, now);
            }
        }
    }

    /// <summary>
    /// The ledger's totals of one subject (a scope's name and value), and of one model if given, in [start, end). Calls the
    /// response cache answered count for RPM only, so not among the requests that daily caps count.
    /// </summary>
    private Totals Sum(string scope, string subject, DateTimeOffset start, DateTimeOffset end, string? model = null)
    {
        var dimension = (Scope.Find(scope) ?? throw new ArgumentOutOfRangeException(nameof(scope))).Name;
        var filters = model is null ? new Dictionary<string, string> { [dimension] = subject } : new() { [dimension] = subject, ["model"] = model };
        return query.Totals(start, end, filters) is { } row
            ? new((long)row["requests"]! - (long)row["cache_hits"]!, Money.ToE10((decimal)row["cost"]!), (long)row["input_tokens"]!, (long)row["output_tokens"]!, (long)row["cached_tokens"]!)
            : default;
    }

    private readonly record struct Totals(long Requests, long CostE10, long InputTokens, long OutputTokens, long CachedTokens);
}

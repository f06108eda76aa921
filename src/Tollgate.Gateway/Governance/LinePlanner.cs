using System.Runtime.CompilerServices;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Which limits a call meets, in a fixed order (key rates, plan, group rates, key budget, group budgets, quotas; key
/// then group circuits). Plans are cached per key record with the configuration snapshot: a new snapshot starts a new
/// cache, an edited key is a new record, and a plan whose earliest period has ended is rebuilt, so counter keys that
/// embed a period start still roll over at the boundary.
/// </summary>
internal sealed class LinePlanner(GovernanceStore config)
{
    private volatile PlanCache? _cache;

    /// <summary>The plan of a key's plan name in the current snapshot; null without one (or when it was deleted).</summary>
    public Plan? PlanOf(VirtualKey key) => key.Plan is { } name && config.Current.Plans.TryGetValue(name, out var plan) ? plan : null;

    internal LinePlan For(VirtualKey key, in Attribution attribution, string model, DateTimeOffset now)
    {
        var snapshot = config.Current;
        var cache = _cache;
        if (cache is null || !ReferenceEquals(cache.Snapshot, snapshot))
        {
            _cache = cache = new PlanCache(snapshot);
        }

        var slot = cache.Slots.GetValue(key, static _ => new Slot());
        if (slot.Last is { } last && last.Fits(key, attribution, model, now))
        {
            return last;
        }

        var built = Build(snapshot, key, attribution, model, now);
        slot.Last = built;
        return built;
    }

    /// <summary>A plan's limits apply per key: its RPM/TPM, daily budget, daily request cap and the daily cap of <paramref name="model"/>.</summary>
    internal static void AddPlan(List<Line> lines, Plan plan, VirtualKey key, string model, DateTimeOffset now)
    {
        AddRate(lines, "plan:" + plan.Name, key.Id, new KeyLimits(plan.Rpm, plan.Tpm));
        var (start, end) = Periods.Current("day", Periods.FindZone(plan.TimeZone) ?? TimeZoneInfo.Utc, now);
        var day = start.ToUnixTimeSeconds();
        if (plan.DailyBudget is { } budget)
        {
            lines.Add(new Line(Measure.Money, LineSource.Budget, CounterKeys.Join(day, "plan-budget", plan.Name, key.Id), Money.ToE10(budget), end, "plan", plan.Name, start)
            {
                Spec = new BudgetSpec("day", null, budget, plan.TimeZone),
            });
        }

        if (plan.DailyRequests is { } requests)
        {
            lines.Add(new Line(Measure.Requests, LineSource.DailyCap, CounterKeys.Join(day, "plan-requests", plan.Name, key.Id), requests, end, "plan", plan.Name, start));
        }

        if (plan.ModelDailyRequests.TryGetValue(model, out var modelRequests))
        {
            lines.Add(new Line(Measure.Requests, LineSource.DailyCap, CounterKeys.PlanModel(plan, key.Id, model, start), modelRequests, end, "plan", plan.Name + " (" + model + ")", start));
        }
    }

    private LinePlan Build(GovernanceStore.Snapshot snapshot, VirtualKey key, in Attribution attribution, string model, DateTimeOffset now)
    {
        var index = snapshot.Index;
        var groups = new List<GroupRules>();
        foreach (var scope in Scope.Groups)
        {
            if (index.Find(scope, scope.Of(attribution)) is { } rules)
            {
                groups.Add(rules);
            }
        }

        var limits = Ordered(groups, static g => g.Limits, static e => e.Order);
        var lines = new List<Line>();
        AddRate(lines, "key", key.Id, key.Limits);
        var plan = PlanOf(key);
        if (plan is not null)
        {
            AddPlan(lines, plan, key, model, now);
        }

        foreach (var (_, limit) in limits)
        {
            AddRate(lines, limit.Scope, limit.Subject, limit.Limits);
        }

        if (key.Budget is { } keyBudget)
        {
            AddBudget(lines, "key", key.Id, keyBudget, now);
        }

        foreach (var (_, budget) in Ordered(groups, static g => g.Budgets, static e => e.Order))
        {
            AddBudget(lines, budget.Scope, budget.Subject, budget.Spec, now);
        }

        var quotas = Ordered(index.Find(Scope.Key, key.Id) is { } own ? [own, .. groups] : groups, static g => g.Quotas, static e => e.Order);
        foreach (var (_, rule, consumer) in quotas)
        {
            var (start, end) = Periods.Current(rule.Cycle, Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc, now);
            lines.Add(new Line(Measure.Tokens, LineSource.Quota, CounterKeys.Quota(rule, consumer, start), rule.LimitTokens, end, rule.Name, consumer, start));
        }

        var circuits = new List<Circuit>();
        AddCircuit(circuits, "key", key.Id, key.Limits);
        foreach (var (_, limit) in limits)
        {
            AddCircuit(circuits, limit.Scope, limit.Subject, limit.Limits);
        }

        return new LinePlan([.. lines], [.. circuits], key, attribution, model, checksModel: plan is not null && plan.ModelDailyRequests.Count > 0);
    }

    /// <summary>The entries of every matched group, in snapshot order (a call can match groups in several scopes at once).</summary>
    private static List<T> Ordered<T>(List<GroupRules> groups, Func<GroupRules, List<T>> select, Func<T, long> order)
    {
        var all = new List<T>();
        foreach (var group in groups)
        {
            all.AddRange(select(group));
        }

        all.Sort((a, b) => order(a).CompareTo(order(b)));
        return all;
    }

    private static void AddRate(List<Line> lines, string scope, string subject, KeyLimits? limits)
    {
        if (limits?.Rpm is { } rpm)
        {
            lines.Add(new Line(Measure.Requests, LineSource.Rate, CounterKeys.Join("rpm", scope, subject), rpm, DateTimeOffset.MaxValue, scope, subject, default));
        }

        if (limits?.Tpm is { } tpm)
        {
            lines.Add(new Line(Measure.Tokens, LineSource.Rate, CounterKeys.Join("tpm", scope, subject), tpm, DateTimeOffset.MaxValue, scope, subject, default));
        }
    }

    /// <summary>A soft-only budget reserves against no limit: its counter still tracks spend for threshold alerts.</summary>
    private static void AddBudget(List<Line> lines, string scope, string subject, BudgetSpec spec, DateTimeOffset now)
    {
        var (start, end) = Periods.Current(spec.Period, Periods.FindZone(spec.Zone) ?? TimeZoneInfo.Utc, now);
        lines.Add(new Line(Measure.Money, LineSource.Budget, CounterKeys.Budget(scope, subject, spec, start), spec.Hard is { } hard ? Money.ToE10(hard) : long.MaxValue, end, scope, subject, start) { Spec = spec });
    }

    private static void AddCircuit(List<Circuit> circuits, string scope, string subject, KeyLimits? limits)
    {
        if (limits?.MaxCostPerMinute is { } max)
        {
            circuits.Add(new Circuit(CounterKeys.Join("circuit", scope, subject), Money.ToE10(max), scope, subject));
        }
    }

    /// <summary>One snapshot's plans; a key record no longer referenced takes its plans with it.</summary>
    private sealed class PlanCache(GovernanceStore.Snapshot snapshot)
    {
        public GovernanceStore.Snapshot Snapshot { get; } = snapshot;

        public ConditionalWeakTable<VirtualKey, Slot> Slots { get; } = new();
    }

    /// <summary>The last plan built for a key: calls of one key mostly carry the same attribution.</summary>
    private sealed class Slot
    {
        private volatile LinePlan? _last;

        public LinePlan? Last
        {
            get => _last;
            set => _last = value;
        }
    }
}

namespace Tollgate.Gateway.Governance;

/// <summary>What the admin API shows of live counters: a budget's spend this period, a quota consumer's cycle; and the quota reset.</summary>
internal sealed class GovernanceStatus(ICounterStore counters, TimeProvider time)
{
    /// <summary>Spent, reserved-and-settled, in the current period of a budget (for <c>GET /admin/budgets</c>).</summary>
    public async ValueTask<(decimal Spent, DateTimeOffset Start, DateTimeOffset End)> BudgetStatusAsync(string scope, string subject, BudgetSpec spec)
    {
        var (start, end) = Periods.Current(spec.Period, Periods.FindZone(spec.Zone) ?? TimeZoneInfo.Utc, time.GetUtcNow());
        return (Ledger.Money.FromE10(await counters.GetAsync(CounterKeys.Budget(scope, subject, spec, start), time.GetUtcNow())), start, end);
    }

    /// <summary>One consumer's figures in a quota rule's current cycle.</summary>
    public async ValueTask<QuotaUsage> QuotaStatusAsync(QuotaRule rule, string consumer)
    {
        var now = time.GetUtcNow();
        var (start, end) = Periods.Current(rule.Cycle, Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc, now);
        var key = CounterKeys.Quota(rule, consumer, start);
        var used = await counters.GetAsync(key, now);
        return new QuotaUsage(consumer, start, end, rule.LimitTokens, used, Math.Max(0, rule.LimitTokens - used),
            await counters.GetAsync(CounterKeys.Join(key, "in"), now), await counters.GetAsync(CounterKeys.Join(key, "out"), now), await counters.GetAsync(CounterKeys.Join(key, "cached"), now), used);
    }

    /// <summary>Zeroes a quota rule's current cycle for every consumer.</summary>
    public async ValueTask ResetQuotaAsync(QuotaRule rule)
    {
        var (start, _) = Periods.Current(rule.Cycle, Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc, time.GetUtcNow());
        foreach (var consumer in rule.Consumers)
        {
            var key = CounterKeys.Quota(rule, consumer, start);
            foreach (var suffix in CounterRebuilder.QuotaSuffixes)
            {
                await counters.DeleteAsync(suffix.Length == 0 ? key : CounterKeys.Join(key, suffix));
            }
        }
    }
}

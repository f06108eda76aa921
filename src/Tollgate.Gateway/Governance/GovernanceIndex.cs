namespace Tollgate.Gateway.Governance;

/// <summary>
/// A snapshot's limits, budgets and quota consumers by (scope, subject), built once per snapshot, so what a call looks up
/// is what names its own key and groups, however many others are defined.
/// </summary>
internal sealed class GovernanceIndex
{
    private readonly Dictionary<ScopedSubject, GroupRules> _groups = [];

    public GovernanceIndex(IReadOnlyList<QuotaRule> rules, IReadOnlyList<GroupBudget> budgets, IReadOnlyList<GroupLimit> limits)
    {
        for (var i = 0; i < limits.Count; i++)
        {
            if (Scope.Find(limits[i].Scope) is { } scope)
            {
                Rules(scope, limits[i].Subject).Limits.Add((i, limits[i]));
            }
        }

        for (var i = 0; i < budgets.Count; i++)
        {
            if (Scope.Find(budgets[i].Scope) is { } scope)
            {
                Rules(scope, budgets[i].Subject).Budgets.Add((i, budgets[i]));
            }
        }

        for (var r = 0; r < rules.Count; r++)
        {
            if (!rules[r].Enabled)
            {
                continue;
            }

            for (var c = 0; c < rules[r].Consumers.Count; c++)
            {
                var consumer = rules[r].Consumers[c];
                var colon = consumer.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && Scope.Find(consumer[..colon]) is { } scope && Scope.Consumers.Contains(scope))
                {
                    Rules(scope, consumer[(colon + 1)..]).Quotas.Add((((long)r << 32) | (uint)c, rules[r], consumer));
                }
            }
        }
    }

    /// <summary>What is configured for a subject of a scope; null when nothing is (or the call has no such subject).</summary>
    public GroupRules? Find(Scope scope, string? subject) =>
        subject is not null && _groups.TryGetValue(new ScopedSubject(scope, subject), out var rules) ? rules : null;

    private GroupRules Rules(Scope scope, string subject)
    {
        var key = new ScopedSubject(scope, subject);
        if (!_groups.TryGetValue(key, out var rules))
        {
            _groups[key] = rules = new GroupRules();
        }

        return rules;
    }
}

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Everything configured for one (scope, subject): its limits, budgets and the quota rules naming it as a consumer, each
/// with its position in the snapshot so a call's lines keep the order a scan of the whole configuration gave them.
/// </summary>
internal sealed class GroupRules
{
    public List<(int Order, GroupLimit Limit)> Limits { get; } = [];

    public List<(int Order, GroupBudget Budget)> Budgets { get; } = [];

    /// <summary>Enabled rules only; the order is (rule position, consumer position).</summary>
    public List<(long Order, QuotaRule Rule, string Consumer)> Quotas { get; } = [];
}

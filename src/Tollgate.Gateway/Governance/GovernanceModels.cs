namespace Tollgate.Gateway.Governance;

/// <summary>A key's own rate limits (docs/api.md "Virtual keys": <c>limits</c>).</summary>
internal sealed record KeyLimits(long? Rpm = null, long? Tpm = null, decimal? MaxCostPerMinute = null);

/// <summary>A money budget over a natural period (<c>budget</c> on a key, or a group budget).</summary>
internal sealed record BudgetSpec(string Period = "month", decimal? Soft = null, decimal? Hard = null, string? TimeZone = null, decimal[]? Thresholds = null)
{
    public string Zone => TimeZone ?? "UTC";
}

/// <summary>A budget shared by a group: every key whose calls are attributed to <see cref="Subject"/> in <see cref="Scope"/>.</summary>
internal sealed record GroupBudget(string Id, string Scope, string Subject, BudgetSpec Spec, DateTimeOffset CreatedAt);

/// <summary>Rate limits shared by a group.</summary>
internal sealed record GroupLimit(string Id, string Scope, string Subject, KeyLimits Limits, DateTimeOffset CreatedAt);

/// <summary>A token quota on natural cycles; every enabled rule covering a request must fit.</summary>
internal sealed record QuotaRule(string Id, string Name, long LimitTokens, string Cycle, string TimeZone, IReadOnlyList<string> Consumers, bool Enabled, DateTimeOffset CreatedAt);

/// <summary>
/// A named bundle of limits that keys reference: edit the plan and every key on it changes on its next request.
/// Where a key and its plan both limit something, both apply, so the stricter one wins.
/// </summary>
internal sealed record Plan(
    string Name,
    IReadOnlyList<string> Models,
    decimal? DailyBudget,
    long? DailyRequests,
    IReadOnlyDictionary<string, long> ModelDailyRequests,
    long? Rpm,
    long? Tpm,
    string TimeZone,
    DateTimeOffset CreatedAt)
{
    public bool AllowsModel(string model) => Keys.VirtualKey.ModelMatches(Models, model);
}

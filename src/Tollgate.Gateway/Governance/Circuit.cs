namespace Tollgate.Gateway.Governance;

/// <summary>A cost-velocity circuit breaker that applies to a call (a key's or a group's <c>max_cost_per_minute</c>).</summary>
internal sealed record Circuit(string Key, long LimitE10, string Scope, string Subject);

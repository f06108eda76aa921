namespace Tollgate.Gateway.Governance;

/// <summary>
/// One limit a call is reserved against. <see cref="Scope"/> and <see cref="Subject"/> are labels for errors and alerts
/// (a plan's rate lines read <c>plan:{name}</c>, a quota line's scope is its rule's name); <see cref="Key"/> names the
/// counter of the current period, which is why a cached plan is valid only until its earliest <see cref="End"/>.
/// </summary>
internal sealed record Line(Measure Measure, LineSource Source, string Key, long Limit, DateTimeOffset End, string Scope, string Subject, DateTimeOffset Start)
{
    public BudgetSpec? Spec { get; init; }
}

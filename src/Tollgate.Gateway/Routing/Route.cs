namespace Tollgate.Gateway.Routing;

/// <summary>
/// A model name clients send instead of <c>provider/model</c> (docs/api.md "Routes"): rules pick a target first
/// (first match wins), else the weighted targets; a downgrade takes over near a limit; on failures listed in
/// <see cref="Retry"/> the call is retried and then moves down <see cref="Fallbacks"/>.
/// </summary>
internal sealed record Route(
    string Name,
    IReadOnlyList<RouteTarget> Targets,
    IReadOnlyList<RouteRule> Rules,
    RouteDowngrade? Downgrade,
    IReadOnlyList<string> Fallbacks,
    RetryPolicy Retry,
    CooldownPolicy Cooldown,
    bool DropUnsupportedParams,
    DateTimeOffset CreatedAt)
{
    /// <summary>Every <c>provider/model</c> a call on this route may reach, each once, in the order they appear.</summary>
    public IEnumerable<string> Models() =>
        Targets.Select(t => t.Model)
            .Concat(Rules.Select(r => r.Model))
            .Concat(Downgrade is { } d ? [d.Model] : [])
            .Concat(Fallbacks)
            .Distinct(StringComparer.Ordinal);

    /// <summary>A key (with its plan) may use a route its allowlists name, or one whose every model they allow.</summary>
    public bool AllowedBy(Func<string, bool> allows) => allows(Name) || Models().All(allows);
}

/// <summary>A model a route sends calls to, chosen in proportion to <see cref="Weight"/> when no rule matched.</summary>
internal sealed record RouteTarget(string Model, int Weight = 1);

/// <summary>When every condition of <see cref="When"/> holds, the call goes to <see cref="Model"/>.</summary>
internal sealed record RouteRule(RouteCondition When, string Model);

/// <summary>The conditions of a rule; unset ones do not constrain. All set ones must hold.</summary>
internal sealed record RouteCondition(
    long? MinInputTokens = null,
    long? MaxInputTokens = null,
    bool? HasTools = null,
    bool? HasImages = null,
    string? Matches = null,
    string? Team = null,
    string? Project = null,
    string? Feature = null,
    string? Plan = null,
    IReadOnlyDictionary<string, string>? Header = null,
    string? Complexity = null);

/// <summary>When a budget or quota that applies has used <see cref="At"/> of its limit, the call goes to <see cref="Model"/>.</summary>
internal sealed record RouteDowngrade(decimal At, string Model);

/// <summary>
/// How failures move a call on: <see cref="Attempts"/> tries per target (the first included), <see cref="BackoffMs"/>
/// (with jitter) between tries of one target, on the failures in <see cref="On"/>: HTTP statuses as numbers, or
/// <c>timeout</c>, <c>connect</c>, <c>context_length</c>.
/// </summary>
internal sealed record RetryPolicy(int Attempts, int BackoffMs, IReadOnlyList<string> On)
{
    public static readonly IReadOnlyList<string> DefaultOn = ["429", "500", "502", "503", "504", "timeout", "connect", "context_length"];

    public static readonly RetryPolicy Default = new(2, 200, DefaultOn);
}

/// <summary>A target that failed <see cref="Failures"/> times in a row is skipped for <see cref="Seconds"/>.</summary>
internal sealed record CooldownPolicy(int Failures, int Seconds)
{
    public static readonly CooldownPolicy Default = new(3, 30);
}

namespace Tollgate.Gateway.Governance;

/// <summary>What a limit line counts.</summary>
internal enum Measure
{
    Requests,
    Tokens,
    Money,
}

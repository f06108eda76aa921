namespace Tollgate.Gateway.Governance;

/// <summary>Which kind of limit a line comes from: it picks the counter kind, the refusal error and the alert.</summary>
internal enum LineSource
{
    Rate,
    Budget,
    Quota,
    DailyCap,
}

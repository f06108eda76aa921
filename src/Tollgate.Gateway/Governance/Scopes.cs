namespace Tollgate.Gateway.Governance;

/// <summary>The group scopes by wire name, for callers that validate a string (configuration files, the admin API).</summary>
internal static class Scopes
{
    public static readonly string[] Group = [.. Scope.Groups.Select(s => s.Name)];

    public static bool IsGroup(string? scope) => Scope.FindGroup(scope) is not null;
}

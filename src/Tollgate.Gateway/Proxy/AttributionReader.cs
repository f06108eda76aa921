using Microsoft.Extensions.Primitives;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Proxy;

/// <summary>Reads the attribution headers (docs/api.md): they fill owner fields the key leaves unset and never override them.</summary>
internal static class AttributionReader
{
    public const string ProjectHeader = "X-Project-ID";
    public const string UserHeader = "X-User-ID";
    public const string EnvironmentHeader = "X-Environment";
    public const string FeatureHeader = "X-Feature";
    public const string CustomerHeader = "X-Customer-ID";
    public const string CostCenterHeader = "X-Cost-Center";
    public const string AgentHeader = "X-Agent-ID";
    public const string SessionHeader = "X-Session-ID";

    public static readonly string[] Headers = [ProjectHeader, UserHeader, EnvironmentHeader, FeatureHeader, CustomerHeader, CostCenterHeader, AgentHeader, SessionHeader];

    public static GatewayError? Read(IHeaderDictionary headers, KeyOwner owner, IReadOnlyList<string> required, out Attribution attribution)
    {
        attribution = default;
        string? project = null, user = null, environment = null, feature = null, customer = null, costCenter = null, agent = null, session = null;
        if ((Value(headers, ProjectHeader, ref project) ?? Value(headers, UserHeader, ref user) ?? Value(headers, EnvironmentHeader, ref environment)
            ?? Value(headers, FeatureHeader, ref feature) ?? Value(headers, CustomerHeader, ref customer) ?? Value(headers, CostCenterHeader, ref costCenter)
            ?? Value(headers, AgentHeader, ref agent) ?? Value(headers, SessionHeader, ref session)) is { } invalid)
        {
            return invalid;
        }

        // Coding agents (Codex CLI) identify their run with a session-id header meant for the provider: it counts as the session.
        // It is not ours to validate, so a value unfit for the ledger is ignored rather than refused.
        session ??= Fallback(headers, "session-id") ?? Fallback(headers, "session_id");

        attribution = new Attribution(
            owner.User ?? user,
            owner.Team,
            owner.Project ?? project,
            owner.CostCenter ?? costCenter,
            owner.Customer ?? customer,
            feature,
            environment,
            agent,
            session);

        for (var i = 0; i < required.Count; i++)
        {
            if (Field(attribution, required[i]) is null)
            {
                return GatewayError.MissingAttribution(required[i]);
            }
        }

        return null;
    }

    /// <summary>A required header counts as present when the key's owner already provides that field.</summary>
    private static string? Field(in Attribution a, string header) => header.ToUpperInvariant() switch
    {
        "X-PROJECT-ID" => a.Project,
        "X-USER-ID" => a.User,
        "X-ENVIRONMENT" => a.Environment,
        "X-FEATURE" => a.Feature,
        "X-CUSTOMER-ID" => a.Customer,
        "X-COST-CENTER" => a.CostCenter,
        "X-AGENT-ID" => a.Agent,
        "X-SESSION-ID" => a.Session,
        _ => null,
    };

    public static bool IsAttributionHeader(string name)
    {
        foreach (var header in Headers)
        {
            if (string.Equals(header, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static GatewayError? Value(IHeaderDictionary headers, string name, ref string? value)
    {
        if (!headers.TryGetValue(name, out StringValues values))
        {
            return null;
        }

        if (values.Count != 1 || !IsValid(values[0]))
        {
            return GatewayError.InvalidRequest($"{name} must be 1 to 128 characters of printable ASCII.", name);
        }

        value = values[0];
        return null;
    }

    private static string? Fallback(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.Count == 1 && IsValid(values[0]) ? values[0] : null;

    private static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 128)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}

using System.Collections.Frozen;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// What a budget, limit or quota consumer is scoped to: its wire name (<c>team</c>, <c>cost_center</c>, …), the ledger
/// column that records it, the attribution header that can supply it, and where its value sits in an
/// <see cref="Attribution"/>. One place for what used to be string switches in governance, queries and reports.
/// </summary>
internal sealed class Scope
{
    /// <summary>A call's own key: its value is the key id, not an attribution field.</summary>
    public static readonly Scope Key = new("key", "key_id", null, static (in Attribution _) => null);

    public static readonly Scope Team = new("team", "team", null, static (in Attribution a) => a.Team);

    public static readonly Scope Project = new("project", "project", AttributionReader.ProjectHeader, static (in Attribution a) => a.Project);

    public static readonly Scope User = new("user", "\"user\"", AttributionReader.UserHeader, static (in Attribution a) => a.User);

    public static readonly Scope CostCenter = new("cost_center", "cost_center", AttributionReader.CostCenterHeader, static (in Attribution a) => a.CostCenter);

    public static readonly Scope Customer = new("customer", "customer", AttributionReader.CustomerHeader, static (in Attribution a) => a.Customer);

    /// <summary>Recorded and reported; not yet a scope that budgets and limits accept.</summary>
    public static readonly Scope Agent = new("agent", "agent", AttributionReader.AgentHeader, static (in Attribution a) => a.Agent);

    /// <summary>The scopes group budgets and group limits accept, in the order the API lists them.</summary>
    public static readonly IReadOnlyList<Scope> Groups = [Team, Project, User, CostCenter, Customer];

    /// <summary>The scopes a quota rule's consumers name (<c>key:…</c>, <c>team:…</c>, <c>user:…</c>, <c>project:…</c>).</summary>
    public static readonly IReadOnlyList<Scope> Consumers = [Key, Team, User, Project];

    /// <summary>Every scope, each a ledger dimension of <c>GET /admin/usage</c>.</summary>
    public static readonly IReadOnlyList<Scope> All = [Key, Team, Project, User, CostCenter, Customer, Agent];

    private static readonly FrozenDictionary<string, Scope> ByName = All.ToFrozenDictionary(s => s.Name, StringComparer.Ordinal);

    private readonly AttributionField _field;

    private Scope(string name, string column, string? header, AttributionField field)
    {
        Name = name;
        Column = column;
        Header = header;
        _field = field;
    }

    private delegate string? AttributionField(in Attribution attribution);

    /// <summary>The wire string of the admin API and of quota consumers.</summary>
    public string Name { get; }

    /// <summary>The <c>usage</c> table column, quoted where SQL needs it.</summary>
    public string Column { get; }

    /// <summary>The request header that fills this field when the key's owner leaves it unset; null when only the key sets it.</summary>
    public string? Header { get; }

    /// <summary>This scope's value in a call's attribution (null for <see cref="Key"/>, which is the key id).</summary>
    public string? Of(in Attribution attribution) => _field(attribution);

    public static Scope? Find(string? name) => name is not null && ByName.TryGetValue(name, out var scope) ? scope : null;

    /// <summary>A group scope by name, or null when budgets and limits do not accept it.</summary>
    public static Scope? FindGroup(string? name) => Find(name) is { } scope && scope != Key && scope != Agent ? scope : null;

    public override string ToString() => Name;
}

using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Tests.Unit;

public sealed class ScopeTests
{
    [Fact]
    public void Each_scope_knows_its_wire_name_ledger_column_header_and_attribution_field()
    {
        var a = new Attribution("ann", "search", "atlas", "cc-7", "acme", "chat", "prod", "agent-1", "s-1");

        Assert.Equal(
            [("key", "key_id", null, null), ("team", "team", null, "search"), ("project", "project", "X-Project-ID", "atlas"), ("user", "\"user\"", "X-User-ID", "ann"),
             ("cost_center", "cost_center", "X-Cost-Center", "cc-7"), ("customer", "customer", "X-Customer-ID", "acme"), ("agent", "agent", "X-Agent-ID", "agent-1")],
            Scope.All.Select(s => (s.Name, s.Column, s.Header, s.Of(a))));
    }

    [Fact]
    public void Budgets_and_limits_accept_the_group_scopes_only()
    {
        Assert.Equal(["team", "project", "user", "cost_center", "customer"], Scope.Groups.Select(s => s.Name));
        Assert.Same(Scope.CostCenter, Scope.FindGroup("cost_center"));
        Assert.Null(Scope.FindGroup("key"));
        Assert.Null(Scope.FindGroup("agent"));
        Assert.Null(Scope.FindGroup("Team"));
        Assert.Same(Scope.Customer, Scope.FindGroup("customer"));
        Assert.Null(Scope.FindGroup(null));
    }
}

using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Admin;

/// <summary>How the audit log reads each admin resource's state before a change.</summary>
internal static class AuditSnapshots
{
    public static AuditLog Register(AuditLog audit)
    {
        var s = audit.Snapshots;
        s["keys"] = (sp, id) => sp.GetRequiredService<KeyService>().Get(id) is { } k ? KeyView.From(k, sp.GetRequiredService<TimeProvider>().GetUtcNow()) : null;
        s["providers"] = (sp, name) => sp.GetRequiredService<ProviderRegistry>().Find(name) is { } p ? ProviderView.From(p) : null;
        s["quota-rules"] = (sp, id) => sp.GetRequiredService<GovernanceStore>().Current.QuotaRules.FirstOrDefault(r => r.Id == id);
        s["budgets"] = (sp, id) => sp.GetRequiredService<GovernanceStore>().Current.Budgets.FirstOrDefault(b => b.Id == id);
        s["plans"] = (sp, name) => sp.GetRequiredService<GovernanceStore>().Current.Plans.GetValueOrDefault(name);
        s["routes"] = (sp, name) => sp.GetRequiredService<Routing.RouteTable>().Find(name) is { } r ? RouteEndpoints.RouteView.From(r) : null;
        s["cache-policies"] = (sp, id) => sp.GetRequiredService<Caching.CachePolicyTable>().Find(id);
        s["limits"] = (sp, id) => sp.GetRequiredService<GovernanceStore>().Current.Limits.FirstOrDefault(l => l.Id == id);
        s["prices"] = (sp, path) =>
        {
            var slash = path.IndexOf('/', StringComparison.Ordinal);
            return slash < 0 ? null : sp.GetRequiredService<Pricing.PriceCatalog>().All().Where(p => p.Provider == path[..slash] && p.Model == path[(slash + 1)..]).Select(p => PriceView.From(p.Provider, p.Model, p.Price, p.BuiltIn)).FirstOrDefault();
        };
        return audit;
    }
}

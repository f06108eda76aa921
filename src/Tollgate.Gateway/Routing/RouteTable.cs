using System.Collections.Concurrent;

namespace Tollgate.Gateway.Routing;

/// <summary>Routes by name (placeholder until the admin API's store lands).</summary>
internal sealed class RouteTable
{
    private readonly ConcurrentDictionary<string, Route> _routes = new(StringComparer.Ordinal);

    public Route? Find(string name) => _routes.GetValueOrDefault(name);

    public IReadOnlyList<Route> List() => [.. _routes.Values.OrderBy(r => r.Name, StringComparer.Ordinal)];

    public void Save(Route route) => _routes[route.Name] = route;
}

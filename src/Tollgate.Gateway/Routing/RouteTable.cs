using System.Collections.Frozen;
using System.Text.Json;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Routing;

/// <summary>
/// The routes (docs/api.md "Routes"): persisted in the <c>routes</c> table (the <see cref="Route"/> as JSON in
/// <c>spec</c>), served from an immutable snapshot that every change replaces at once, so an edit applies to the very
/// next request. Re-read by <see cref="Hosting.ConfigSync"/> when another replica changed the configuration. Whenever a
/// loaded route has a <c>complexity</c> rule, the complexity model is warmed (in the background, once), so the first
/// classified call does not wait for the embedding model; without such a rule the model is never loaded.
/// </summary>
internal sealed class RouteTable(Database db, ComplexityModel complexity)
{
    private volatile Snapshot _current = Snapshot.Empty;

    /// <summary>The route of that name, or null; names are case-sensitive.</summary>
    public Route? Find(string name) => _current.ByName.GetValueOrDefault(name);

    /// <summary>The route of that name, or null, without allocating a string (for the model name of a request).</summary>
    public Route? Find(ReadOnlySpan<char> name) => _current.Lookup.TryGetValue(name, out var route) ? route : null;

    /// <summary>Every route, by name (ordinal).</summary>
    public IReadOnlyList<Route> List() => _current.Sorted;

    /// <summary>(Re-)reads every route from the database; removed ones go away.</summary>
    public void Load()
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT spec FROM routes";
        using var reader = command.ExecuteReader();
        var routes = new List<Route>();
        while (reader.Read())
        {
            routes.Add(JsonSerializer.Deserialize<Route>(reader.GetString(0), StoreJson.Options) ?? throw new JsonException("A route's spec is null."));
        }

        _current = new Snapshot(routes);
        if (routes.Exists(r => r.Rules.Any(rule => rule.When.Complexity is not null)))
        {
            complexity.Warm();
        }
    }

    /// <summary>Creates or replaces the route of <see cref="Route.Name"/> (its <c>created_at</c> stays that of the first save).</summary>
    public void Save(Route route) => Execute(
        "INSERT INTO routes (name, spec, created_at) VALUES (@name, @spec, @created) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec",
        ("@name", route.Name), ("@spec", JsonSerializer.Serialize(route, StoreJson.Options)), ("@created", route.CreatedAt.ToUnixTimeMilliseconds()));

    /// <summary>Deletes a route; false when there was none of that name.</summary>
    public bool Delete(string name) => Execute("DELETE FROM routes WHERE name = @name", ("@name", name)) > 0;

    /// <summary>Runs a change, then re-reads the snapshot so the next request sees it.</summary>
    private int Execute(string sql, params (string, object?)[] parameters)
    {
        var changed = db.Execute(sql, parameters);
        Load();
        return changed;
    }

    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new([]);

        public Snapshot(IEnumerable<Route> routes)
        {
            Sorted = [.. routes.OrderBy(r => r.Name, StringComparer.Ordinal)];
            ByName = Sorted.ToFrozenDictionary(r => r.Name, StringComparer.Ordinal);
            Lookup = ByName.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public IReadOnlyList<Route> Sorted { get; }

        public FrozenDictionary<string, Route> ByName { get; }

        public FrozenDictionary<string, Route>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }
    }
}

using System.Text.Json;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The cache policies, persisted in the <c>cache_policies</c> table (the <see cref="CachePolicy"/> as JSON in
/// <c>spec</c>) and served from an immutable snapshot that every change replaces at once. Re-read by
/// <see cref="Hosting.ConfigSync"/> when another replica changed the configuration.
/// </summary>
internal sealed class CachePolicyTable(Database db)
{
    private volatile IReadOnlyList<CachePolicy> _current = [];

    /// <summary>Every policy, most specific first.</summary>
    public IReadOnlyList<CachePolicy> List() => _current;

    public CachePolicy? Find(string id) => _current.FirstOrDefault(p => p.Id == id);

    /// <summary>True when some policy may embed prompts (the semantic cache's model is loaded only then).</summary>
    public bool AnySemantic => _current.Any(p => p.Semantic.Enabled);

    /// <summary>The most specific policy that covers a call of this key, attribution and model; null: nothing is cached.</summary>
    public CachePolicy? For(VirtualKey key, in Attribution attribution, string model)
    {
        foreach (var policy in _current)
        {
            if (policy.CoversModel(model) && Applies(policy, key, attribution))
            {
                return policy;
            }
        }

        return null;
    }

    public void Load()
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT spec FROM cache_policies";
        using var reader = command.ExecuteReader();
        var policies = new List<CachePolicy>();
        while (reader.Read())
        {
            policies.Add(JsonSerializer.Deserialize<CachePolicy>(reader.GetString(0), StoreJson.Options) ?? throw new JsonException("A cache policy's spec is null."));
        }

        _current = [.. policies.OrderBy(p => p.Rank).ThenBy(p => p.CreatedAt).ThenBy(p => p.Id, StringComparer.Ordinal)];
    }

    /// <summary>Creates or replaces the policy of <see cref="CachePolicy.Id"/>.</summary>
    public void Save(CachePolicy policy)
    {
        db.Execute(
            "INSERT INTO cache_policies (id, spec, created_at) VALUES (@id, @spec, @created) ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
            ("@id", policy.Id), ("@spec", JsonSerializer.Serialize(policy, StoreJson.Options)), ("@created", policy.CreatedAt.ToUnixTimeMilliseconds()));
        Load();
    }

    public bool Delete(string id)
    {
        var deleted = db.Execute("DELETE FROM cache_policies WHERE id = @id", ("@id", id)) > 0;
        Load();
        return deleted;
    }

    private static bool Applies(CachePolicy policy, VirtualKey key, in Attribution attribution) => policy.Scope switch
    {
        CachePolicy.Global => true,
        "key" => policy.Subject == key.Id,
        "team" => policy.Subject == attribution.Team,
        // X-Project-ID may attribute a project to a key without one; such a claim must not open the project's global
        // namespace to any key that sends the header (a key or team namespace stays the caller's own).
        "project" => policy.Subject == (policy.Share == CachePolicy.Global ? key.Owner.Project : attribution.Project),
        "plan" => policy.Subject == key.Plan,
        _ => false,
    };
}

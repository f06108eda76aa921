using System.Collections.Concurrent;
using System.Text.Json;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Providers;

/// <summary>Configured providers, persisted with their API keys encrypted, served from memory.</summary>
internal sealed class ProviderRegistry
{
    private readonly ConcurrentDictionary<string, Provider> _providers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Provider>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly Database _db;
    private readonly SecretProtector _secrets;
    private readonly TimeProvider _time;

    public ProviderRegistry(Database db, SecretProtector secrets, TimeProvider time)
    {
        _db = db;
        _secrets = secrets;
        _time = time;
        _lookup = _providers.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Loads (or re-loads, when another replica changed them) every provider; removed ones go away.</summary>
    public void Load()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, kind, base_url, api_key_encrypted, models, created_at FROM providers";
        using var r = command.ExecuteReader();
        while (r.Read())
        {
            var kind = ProviderKinds.Parse(r.GetString(1)) ?? throw new InvalidDataException($"provider {r.GetString(0)} has an unknown kind");
            seen.Add(r.GetString(0));
            _providers[r.GetString(0)] = new Provider(
                r.GetString(0),
                kind,
                r.GetString(2),
                r.IsDBNull(3) ? null : _secrets.Decrypt(r.GetString(3)),
                JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [],
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)));
        }

        foreach (var name in _providers.Keys.Where(n => !seen.Contains(n)))
        {
            _providers.TryRemove(name, out _);
        }
    }

    public IReadOnlyList<Provider> List() => [.. _providers.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];

    public Provider? Find(ReadOnlySpan<char> name) => _lookup.TryGetValue(name, out var provider) ? provider : null;

    public Provider Upsert(string name, ProviderKind kind, string baseUrl, string? apiKey, IReadOnlyList<string> models)
    {
        var provider = new Provider(name, kind, baseUrl, apiKey, models, _time.GetUtcNow());
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO providers (name, kind, base_url, api_key_encrypted, models, created_at)
            VALUES (@name, @kind, @url, @key, @models, @created)
            ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url,
                api_key_encrypted = excluded.api_key_encrypted, models = excluded.models
            """;
        Database.AddParameters(
            command,
            ("@name", name),
            ("@kind", kind.ToWire()),
            ("@url", provider.BaseUrl),
            ("@key", apiKey is null ? null : _secrets.Encrypt(apiKey)),
            ("@models", JsonSerializer.Serialize(models)),
            ("@created", provider.CreatedAt.ToUnixTimeMilliseconds()));
        command.ExecuteNonQuery();
        _providers[name] = provider;
        return provider;
    }

    public bool Delete(string name)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM providers WHERE name = @name";
        Database.AddParameters(command, ("@name", name));
        command.ExecuteNonQuery();
        return _providers.TryRemove(name, out _);
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Keys;

/// <summary>Virtual keys and the master key: creation, lookup by hash (cached), revocation.</summary>
internal sealed class KeyService
{
    private readonly Database _db;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, VirtualKey> _byHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, VirtualKey>.AlternateLookup<ReadOnlySpan<char>> _byHashSpan;
    private string? _masterHash;

    public KeyService(Database db, TimeProvider time)
    {
        _db = db;
        _time = time;
        _byHashSpan = _byHash.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Loads keys and sets up the master key. Returns the master key when one was generated (to print once).</summary>
    public string? Initialize(string? configuredMasterKey)
    {
        foreach (var key in Query("SELECT * FROM keys", []))
        {
            _byHash[key.Hash] = key;
        }

        using var connection = _db.Open();
        if (configuredMasterKey is not null)
        {
            _masterHash = KeyHash.Compute(configuredMasterKey);
            return null;
        }

        using var read = connection.CreateCommand();
        read.CommandText = "SELECT value FROM settings WHERE name = 'master_key_hash'";
        if (read.ExecuteScalar() is string stored)
        {
            _masterHash = stored;
            return null;
        }

        var generated = KeyHash.NewSecret();
        _masterHash = KeyHash.Compute(generated);
        using var write = connection.CreateCommand();
        write.CommandText = "INSERT INTO settings (name, value) VALUES ('master_key_hash', @v)";
        Database.AddParameters(write, ("@v", _masterHash));
        write.ExecuteNonQuery();
        return generated;
    }

    /// <summary>Re-reads every key (another replica changed one): new, edited and revoked keys apply at the next request.</summary>
    public void Reload()
    {
        var current = Query("SELECT * FROM keys", []).ToDictionary(k => k.Hash, StringComparer.Ordinal);
        foreach (var (hash, key) in current)
        {
            _byHash[hash] = key;
        }

        foreach (var hash in _byHash.Keys)
        {
            if (!current.ContainsKey(hash))
            {
                _byHash.TryRemove(hash, out _);
            }
        }
    }

    /// <summary>The SHA-256 of the master key (hex), which console sessions opened with it keep.</summary>
    public string? MasterKeyHash => _masterHash;

    /// <summary>Whether a stored master-key hash is the current master key's.</summary>
    public bool IsMasterKeyHash(string? hash) =>
        hash is not null && _masterHash is not null
        && CryptographicOperations.FixedTimeEquals(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(hash.AsSpan()),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(_masterHash.AsSpan()));

    public bool IsMasterKey(ReadOnlySpan<char> presented)
    {
        Span<char> hex = stackalloc char[64];
        return _masterHash is not null && KeyHash.Compute(presented, hex)
            && CryptographicOperations.FixedTimeEquals(
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(hex),
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(_masterHash.AsSpan()));
    }

    /// <summary>The active key for a presented secret, or null (unknown, revoked or expired).</summary>
    public VirtualKey? Authenticate(ReadOnlySpan<char> presented)
    {
        Span<char> hex = stackalloc char[64];
        if (!presented.StartsWith(KeyHash.Prefix, StringComparison.Ordinal) || !KeyHash.Compute(presented, hex))
        {
            return null;
        }

        if (!_byHashSpan.TryGetValue(hex, out var key))
        {
            return null;
        }

        return key.IsActive(_time.GetUtcNow()) ? key : null;
    }

    public (VirtualKey Key, string Secret) Create(string name, string role, KeyOwner owner, IReadOnlyList<string> models, DateTimeOffset? expiresAt, string? id = null, string? secret = null, Governance.KeyLimits? limits = null, Governance.BudgetSpec? budget = null, string? plan = null)
    {
        secret ??= KeyHash.NewSecret();
        var key = new VirtualKey(
            id ?? KeyHash.NewId("key_"),
            KeyHash.Compute(secret),
            secret[..Math.Min(secret.Length, 8)],
            name,
            role,
            owner,
            models,
            _time.GetUtcNow(),
            expiresAt,
            null)
        {
            Limits = limits,
            Budget = budget,
            Plan = plan,
        };
        Save(key, insert: true);
        return (key, secret);
    }

    public IReadOnlyList<VirtualKey> List() => [.. _byHash.Values.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)];

    public VirtualKey? Get(string id) => _byHash.Values.FirstOrDefault(k => k.Id == id);

    public void Update(VirtualKey key) => Save(key, insert: false);

    /// <summary>Creates or replaces a key whose hash is known (declarative config); a changed secret drops the old hash at once.</summary>
    public void Upsert(VirtualKey key)
    {
        if (Get(key.Id) is { } existing)
        {
            if (existing.Hash != key.Hash)
            {
                _byHash.TryRemove(existing.Hash, out _);
                Delete(existing.Id);
                Save(key, insert: true);
                return;
            }

            Save(key with { CreatedAt = existing.CreatedAt }, insert: false);
            return;
        }

        Save(key, insert: true);
    }

    /// <summary>Removes a key outright (demo keys are replaced at every start).</summary>
    public void Delete(string id)
    {
        if (Get(id) is not { } existing)
        {
            return;
        }

        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM keys WHERE id = @id";
        Database.AddParameters(command, ("@id", id));
        command.ExecuteNonQuery();
        _byHash.TryRemove(existing.Hash, out _);
    }

    private void Save(VirtualKey key, bool insert)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = insert
            ? """
              INSERT INTO keys (id, hash, prefix, name, role, owner, models, created_at, expires_at, revoked_at, limits, budget, plan)
              VALUES (@id, @hash, @prefix, @name, @role, @owner, @models, @created, @expires, @revoked, @limits, @budget, @plan)
              """
            : """
              UPDATE keys SET name = @name, role = @role, owner = @owner, models = @models,
                  expires_at = @expires, revoked_at = @revoked, limits = @limits, budget = @budget, plan = @plan WHERE id = @id
              """;
        Database.AddParameters(
            command,
            ("@id", key.Id),
            ("@hash", key.Hash),
            ("@prefix", key.Prefix),
            ("@name", key.Name),
            ("@role", key.Role),
            ("@owner", JsonSerializer.Serialize(key.Owner, StoreJson.Options)),
            ("@models", JsonSerializer.Serialize(key.Models, StoreJson.Options)),
            ("@created", key.CreatedAt.ToUnixTimeMilliseconds()),
            ("@expires", key.ExpiresAt?.ToUnixTimeMilliseconds()),
            ("@revoked", key.RevokedAt?.ToUnixTimeMilliseconds()),
            ("@limits", key.Limits is null ? null : JsonSerializer.Serialize(key.Limits, StoreJson.Options)),
            ("@budget", key.Budget is null ? null : JsonSerializer.Serialize(key.Budget, StoreJson.Options)),
            ("@plan", key.Plan));
        command.ExecuteNonQuery();
        _byHash[key.Hash] = key;
    }

    private List<VirtualKey> Query(string sql, (string, object?)[] parameters)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        Database.AddParameters(command, parameters);
        using var reader = command.ExecuteReader();
        var keys = new List<VirtualKey>();
        while (reader.Read())
        {
            keys.Add(Read(reader));
        }

        return keys;
    }

    private static VirtualKey Read(System.Data.Common.DbDataReader r) => new(
        r.GetString(r.GetOrdinal("id")),
        r.GetString(r.GetOrdinal("hash")),
        r.GetString(r.GetOrdinal("prefix")),
        r.GetString(r.GetOrdinal("name")),
        r.GetString(r.GetOrdinal("role")),
        JsonSerializer.Deserialize<KeyOwner>(r.GetString(r.GetOrdinal("owner")), StoreJson.Options) ?? KeyOwner.None,
        JsonSerializer.Deserialize<string[]>(r.GetString(r.GetOrdinal("models")), StoreJson.Options) ?? [],
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(r.GetOrdinal("created_at"))),
        Time(r, "expires_at"),
        Time(r, "revoked_at"))
    {
        Limits = Json<Governance.KeyLimits>(r, "limits"),
        Budget = Json<Governance.BudgetSpec>(r, "budget"),
        Plan = r.IsDBNull(r.GetOrdinal("plan")) ? null : r.GetString(r.GetOrdinal("plan")),
    };

    private static T? Json<T>(System.Data.Common.DbDataReader r, string column)
        where T : class
    {
        var ordinal = r.GetOrdinal(column);
        return r.IsDBNull(ordinal) ? null : JsonSerializer.Deserialize<T>(r.GetString(ordinal), StoreJson.Options);
    }

    private static DateTimeOffset? Time(System.Data.Common.DbDataReader r, string column)
    {
        var ordinal = r.GetOrdinal(column);
        return r.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(ordinal));
    }
}

namespace Tollgate.Gateway.Caching;

/// <summary>
/// Where cached answers live: in process (<see cref="MemoryCacheStore"/>) or in Redis, shared by replicas
/// (<see cref="RedisCacheStore"/>). Keys are SHA-256 hashes; namespaces keep tenants apart. A store that cannot answer
/// answers "not found" and drops a write: the cache never fails a call.
/// </summary>
internal interface ICacheStore
{
    ValueTask<CacheEntry?> GetAsync(string ns, byte[] key);

    ValueTask SetAsync(string ns, byte[] key, CacheEntry entry, TimeSpan ttl);

    /// <summary>Removes the entries of a namespace and of the namespaces below it (<c>global</c>: every policy's global one; null: all); how many went.</summary>
    ValueTask<long> PurgeAsync(string? ns);

    ValueTask<(long Entries, long Bytes)> CountAsync();
}

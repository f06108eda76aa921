using System.Security.Cryptography;
using StackExchange.Redis;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The shared store: one Redis string per entry under <c>{prefix}cache:{namespace}:{hex key}</c>, sealed with the
/// secret key (AES-256-GCM, so Redis never holds prompt or completion text in the clear) and expiring with the
/// policy's TTL. Redis unreachable or slow: a miss, and the write is dropped.
/// </summary>
internal sealed partial class RedisCacheStore(IConnectionMultiplexer redis, string prefix, SecretProtector secrets, ILogger<RedisCacheStore> log) : ICacheStore
{
    private readonly string _root = prefix + "cache:";

    public async ValueTask<CacheEntry?> GetAsync(string ns, byte[] key)
    {
        if (!redis.IsConnected)
        {
            return null; // no waiting for a timeout on every call while Redis is away
        }

        try
        {
            var value = (byte[]?)await redis.GetDatabase().StringGetAsync(Key(ns, key));
            return value is null ? null : CacheEntry.Deserialize(secrets.Unseal(value));
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException or CryptographicException)
        {
            LogUnavailable(log, e.GetType().Name);
            return null;
        }
    }

    public async ValueTask SetAsync(string ns, byte[] key, CacheEntry entry, TimeSpan ttl)
    {
        if (!redis.IsConnected)
        {
            return;
        }

        try
        {
            await redis.GetDatabase().StringSetAsync(Key(ns, key), secrets.Seal(entry.Serialize()), ttl);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogUnavailable(log, e.GetType().Name);
        }
    }

    public async ValueTask<long> PurgeAsync(string? ns)
    {
        var gone = 0L;
        var db = redis.GetDatabase();
        await foreach (var batch in KeysAsync(ns))
        {
            gone += await db.KeyDeleteAsync(batch);
        }

        return gone;
    }

    public async ValueTask<(long Entries, long Bytes)> CountAsync()
    {
        var entries = 0L;
        var bytes = 0L;
        var db = redis.GetDatabase();
        await foreach (var batch in KeysAsync(null))
        {
            entries += batch.Length;
            foreach (var length in await Task.WhenAll(batch.Select(k => db.StringLengthAsync(k))))
            {
                bytes += length;
            }
        }

        return (entries, bytes);
    }

    private RedisKey Key(string ns, byte[] key) => _root + ns + ":" + Convert.ToHexString(key);

    /// <summary>A namespace's keys (or every cache key), in batches, on every primary.</summary>
    private async IAsyncEnumerable<RedisKey[]> KeysAsync(string? ns)
    {
        var pattern = Escape(_root) + (ns is null ? "*" : Escape(ns) + ":*");
        foreach (var server in redis.GetServers().Where(s => !s.IsReplica && s.IsConnected))
        {
            var batch = new List<RedisKey>(500);
            await foreach (var key in server.KeysAsync(redis.GetDatabase().Database, pattern, pageSize: 500))
            {
                batch.Add(key);
                if (batch.Count == 500)
                {
                    yield return [.. batch];
                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                yield return [.. batch];
            }
        }
    }

    /// <summary>Redis glob: a namespace is a team name, which may hold any character.</summary>
    private static string Escape(string text)
    {
        var escaped = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The response cache in Redis is unavailable ({Error}); calls go on as misses")]
    private static partial void LogUnavailable(ILogger logger, string error);
}

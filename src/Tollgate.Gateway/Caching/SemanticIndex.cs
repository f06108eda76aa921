using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// The vectors of stored answers, for the semantic cache: one bucket per namespace and request context (model, system
/// prompt, tools, earlier turns, parameters), so a candidate can only ever be an answer given in the same context. A
/// lookup scans its bucket (a dot product per entry) and returns the closest entries above the threshold with their
/// prompt text, for the guard. The answers themselves live in the <see cref="ICacheStore"/> under their exact keys; an
/// entry whose answer has gone is dropped when a lookup finds it missing.
/// With Redis, a bucket's entries are also kept in a Redis list (sealed with the secret key) and every new entry is
/// announced on a channel: a replica loads a bucket from the list the first time it needs it and then keeps it current
/// from the announcements, so replicas share semantic entries as they share exact ones. The in-process index is bounded
/// by <c>TOLLGATE_CACHE_MAX_MB</c> (oldest entries go first).
/// </summary>
internal sealed partial class SemanticIndex : IDisposable
{
    private const int KeySize = 32;

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(Bucket Bucket, Entry Entry)> _order = new();
    private readonly TimeProvider _time;
    private readonly long _maxBytes;
    private readonly IConnectionMultiplexer? _redis;
    private readonly SecretProtector _secrets;
    private readonly string _root;
    private readonly RedisChannel _channel;
    private readonly ILogger<SemanticIndex> _log;
    private long _bytes;

    public SemanticIndex(TimeProvider time, GatewaySettings settings, SecretProtector secrets, IServiceProvider services, ILogger<SemanticIndex> log)
    {
        _time = time;
        _maxBytes = settings.CacheMaxMb * 1024L * 1024;
        _secrets = secrets;
        _log = log;
        _root = settings.RedisPrefix + "cache:";
        _channel = RedisChannel.Literal(settings.RedisPrefix + "cache-semantic");
        _redis = services.GetService<IConnectionMultiplexer>();
        if (_redis is not null)
        {
            // Not awaited: Redis may be down at start; the subscription is made when it connects.
            _ = _redis.GetSubscriber().SubscribeAsync(_channel, (_, message) => Heard(message));
        }
    }

    public long Count => _buckets.Values.Sum(b => b.Count);

    /// <summary>The entries of the context whose vectors are at least <paramref name="threshold"/> close, closest first (at most <paramref name="limit"/>).</summary>
    public async ValueTask<IReadOnlyList<(Entry Entry, double Similarity)>> FindAsync(string ns, byte[] context, float[] vector, double threshold, int limit = 3)
    {
        var bucket = await BucketAsync(ns, context);
        return bucket.Find(vector, threshold, limit, _time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>Adds the vector of an answer just stored under <paramref name="key"/>; with Redis, for every replica.</summary>
    public async ValueTask AddAsync(string ns, byte[] context, float[] vector, byte[] key, string text, TimeSpan ttl)
    {
        var entry = new Entry(vector, key, text, (_time.GetUtcNow() + ttl).ToUnixTimeMilliseconds());
        var bucket = await BucketAsync(ns, context);
        Keep(bucket, entry);
        if (_redis is not { IsConnected: true })
        {
            return;
        }

        try
        {
            var sealedEntry = _secrets.Seal(entry.Serialize());
            var list = ListKey(bucket.Id);
            var db = _redis.GetDatabase();
            await db.ListRightPushAsync(list, sealedEntry);
            await db.ListTrimAsync(list, -100_000, -1);
            await db.KeyExpireAsync(list, ttl); // the newest entry's life: older ones carry their own expiry
            await _redis.GetSubscriber().PublishAsync(_channel, Announcement(bucket.Id, sealedEntry));
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogUnavailable(_log, e.GetType().Name);
        }
    }

    /// <summary>Drops an entry whose answer is no longer in the store.</summary>
    public void Remove(string ns, byte[] context, Entry entry)
    {
        if (_buckets.TryGetValue(BucketId(ns, context), out var bucket) && bucket.Remove(entry))
        {
            Interlocked.Add(ref _bytes, -entry.Size);
        }
    }

    /// <summary>Forgets a namespace's buckets (null: all); their Redis lists go with the store's purge of the namespace.</summary>
    public void Purge(string? ns)
    {
        foreach (var id in _buckets.Keys)
        {
            if ((ns is null || id.StartsWith(ns + ":", StringComparison.Ordinal)) && _buckets.TryRemove(id, out var bucket))
            {
                Interlocked.Add(ref _bytes, -bucket.Bytes);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            _redis?.GetSubscriber().Unsubscribe(_channel, null, CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            // Shutting down without Redis: nothing to unsubscribe from.
        }
    }

    /// <summary>Cosine similarity of two unit vectors.</summary>
    public static double Similarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        var wide = MemoryMarshal.Cast<float, Vector<float>>(a);
        var wideB = MemoryMarshal.Cast<float, Vector<float>>(b);
        for (; i < wide.Length; i++)
        {
            sum += wide[i] * wideB[i];
        }

        var dot = Vector.Sum(sum);
        for (i *= Vector<float>.Count; i < a.Length; i++)
        {
            dot += a[i] * b[i];
        }

        return dot;
    }

    // A namespace is "key:…", "team:…" or "global:<policy id>"; the bucket id keeps it first so a purge finds its buckets.
    private static string BucketId(string ns, byte[] context) => ns + ":" + Convert.ToHexString(context);

    private static byte[] Announcement(string bucketId, byte[] sealedEntry)
    {
        var id = Encoding.UTF8.GetBytes(bucketId);
        var message = new byte[2 + id.Length + sealedEntry.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(message, (ushort)id.Length);
        id.CopyTo(message, 2);
        sealedEntry.CopyTo(message, 2 + id.Length);
        return message;
    }

    private RedisKey ListKey(string bucketId)
    {
        var colon = bucketId.LastIndexOf(':');
        return _root + bucketId[..colon] + ":semantic:" + bucketId[(colon + 1)..];
    }

    private async ValueTask<Bucket> BucketAsync(string ns, byte[] context)
    {
        var id = BucketId(ns, context);
        var bucket = _buckets.GetOrAdd(id, static id => new Bucket(id));
        if (_redis is not { IsConnected: true } || bucket.Loaded)
        {
            return bucket;
        }

        try
        {
            foreach (var value in await _redis.GetDatabase().ListRangeAsync(ListKey(id)))
            {
                if (Open((byte[])value!) is { } entry)
                {
                    Keep(bucket, entry);
                }
            }

            bucket.Loaded = true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogUnavailable(_log, e.GetType().Name); // tried again on the next lookup
        }

        return bucket;
    }

    private void Heard(RedisValue message)
    {
        var bytes = (byte[])message!;
        if (bytes.Length < 2)
        {
            return;
        }

        var length = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        if (bytes.Length < 2 + length)
        {
            return;
        }

        var id = Encoding.UTF8.GetString(bytes, 2, length);
        if (_buckets.TryGetValue(id, out var bucket) && Open(bytes.AsSpan(2 + length)) is { } entry)
        {
            Keep(bucket, entry); // a bucket not loaded here yet reads the entry from the list when first needed
        }
    }

    private Entry? Open(ReadOnlySpan<byte> sealedEntry)
    {
        try
        {
            return Entry.Deserialize(_secrets.Unseal(sealedEntry));
        }
        catch (CryptographicException)
        {
            return null; // sealed with another secret key
        }
    }

    private void Keep(Bucket bucket, Entry entry)
    {
        if (bucket.Add(entry) is { } replaced)
        {
            Interlocked.Add(ref _bytes, -replaced.Size); // its place in the eviction order finds it gone
        }

        _order.Enqueue((bucket, entry));
        if (Interlocked.Add(ref _bytes, entry.Size) <= _maxBytes)
        {
            return;
        }

        while (Interlocked.Read(ref _bytes) > _maxBytes && _order.TryDequeue(out var oldest))
        {
            if (oldest.Bucket.Remove(oldest.Entry))
            {
                Interlocked.Add(ref _bytes, -oldest.Entry.Size);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The semantic cache's shared index in Redis is unavailable ({Error}); this replica's own entries still serve")]
    private static partial void LogUnavailable(ILogger logger, string error);

    /// <summary>One stored answer's vector, exact key and prompt text (for the guard), and when it expires.</summary>
    internal sealed record Entry(float[] Vector, byte[] Key, string Text, long ExpiresMs)
    {
        public long Size => (Vector.Length * 4) + Key.Length + (Text.Length * 2) + 64;

        public byte[] Serialize()
        {
            var text = Encoding.UTF8.GetBytes(Text);
            var output = new byte[8 + KeySize + 2 + (Vector.Length * 4) + text.Length];
            BinaryPrimitives.WriteInt64LittleEndian(output, ExpiresMs);
            Key.CopyTo(output, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(output.AsSpan(8 + KeySize), (ushort)Vector.Length);
            MemoryMarshal.AsBytes(Vector.AsSpan()).CopyTo(output.AsSpan(8 + KeySize + 2));
            text.CopyTo(output, 8 + KeySize + 2 + (Vector.Length * 4));
            return output;
        }

        public static Entry? Deserialize(ReadOnlySpan<byte> data)
        {
            if (data.Length < 8 + KeySize + 2)
            {
                return null;
            }

            var dimensions = BinaryPrimitives.ReadUInt16LittleEndian(data[(8 + KeySize)..]);
            var start = 8 + KeySize + 2 + (dimensions * 4);
            if (data.Length < start)
            {
                return null;
            }

            var vector = MemoryMarshal.Cast<byte, float>(data[(8 + KeySize + 2)..start]).ToArray();
            return new Entry(vector, data.Slice(8, KeySize).ToArray(), Encoding.UTF8.GetString(data[start..]), BinaryPrimitives.ReadInt64LittleEndian(data));
        }
    }

    /// <summary>The entries of one namespace and context, one per exact key.</summary>
    private sealed class Bucket(string id)
    {
        // Ordered like the list it replaces: a lookup scans in arrival order (an answer stored again moves last), so
        // entries equally similar to a query come out as before.
        private readonly OrderedDictionary<byte[], Entry> _entries = new(KeyBytes.Instance);

        public string Id { get; } = id;

        public bool Loaded { get; set; }

        public int Count
        {
            get
            {
                lock (_entries)
                {
                    return _entries.Count;
                }
            }
        }

        public long Bytes
        {
            get
            {
                lock (_entries)
                {
                    return _entries.Values.Sum(e => e.Size);
                }
            }
        }

        /// <summary>Adds the entry; one with the same key (the same answer, stored again or heard back from Redis) goes and is returned.</summary>
        public Entry? Add(Entry entry)
        {
            lock (_entries)
            {
                _entries.Remove(entry.Key, out var replaced);
                _entries.Add(entry.Key, entry);
                return replaced;
            }
        }

        /// <summary>Removes this very entry; false when it is gone or its key now holds another (it was replaced).</summary>
        public bool Remove(Entry entry)
        {
            lock (_entries)
            {
                return _entries.TryGetValue(entry.Key, out var kept) && kept.Equals(entry) && _entries.Remove(entry.Key);
            }
        }

        public List<(Entry, double)> Find(float[] vector, double threshold, int limit, long now)
        {
            var found = new List<(Entry Entry, double Similarity)>();
            lock (_entries)
            {
                foreach (var entry in _entries.Values)
                {
                    if (entry.ExpiresMs > now && Similarity(entry.Vector, vector) is var similarity && similarity >= threshold)
                    {
                        found.Add((entry, similarity));
                    }
                }
            }

            found.Sort((a, b) => b.Similarity.CompareTo(a.Similarity));
            return found.Count > limit ? found[..limit] : found;
        }
    }

    /// <summary>Exact keys compared by their bytes.</summary>
    private sealed class KeyBytes : IEqualityComparer<byte[]>
    {
        public static readonly KeyBytes Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}

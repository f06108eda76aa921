namespace Tollgate.Gateway.Caching;

/// <summary>
/// The in-process store: least recently used entries go when the total passes <c>TOLLGATE_CACHE_MAX_MB</c>; an entry past
/// its TTL is a miss and goes on the next touch.
/// </summary>
internal sealed class MemoryCacheStore(long maxBytes, TimeProvider time) : ICacheStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Item>> _items = new(StringComparer.Ordinal);
    private readonly LinkedList<Item> _recent = new();
    private long _bytes;

    public ValueTask<CacheEntry?> GetAsync(string ns, byte[] key)
    {
        var id = Id(ns, key);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_items.TryGetValue(id, out var node))
            {
                return ValueTask.FromResult<CacheEntry?>(null);
            }

            if (node.Value.Expires <= now)
            {
                Remove(node);
                return ValueTask.FromResult<CacheEntry?>(null);
            }

            _recent.Remove(node);
            _recent.AddFirst(node);
            return ValueTask.FromResult<CacheEntry?>(node.Value.Entry);
        }
    }

    public ValueTask SetAsync(string ns, byte[] key, CacheEntry entry, TimeSpan ttl)
    {
        var id = Id(ns, key);
        var size = entry.Size + id.Length;
        if (size > maxBytes)
        {
            return ValueTask.CompletedTask;
        }

        lock (_lock)
        {
            if (_items.TryGetValue(id, out var old))
            {
                Remove(old);
            }

            var node = _recent.AddFirst(new Item(id, ns, entry, size, time.GetUtcNow() + ttl));
            _items[id] = node;
            _bytes += size;
            while (_bytes > maxBytes && _recent.Last is { } last)
            {
                Remove(last);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<long> PurgeAsync(string? ns)
    {
        lock (_lock)
        {
            var gone = 0L;
            for (var node = _recent.First; node is not null;)
            {
                var next = node.Next;
                if (ns is null || node.Value.Ns == ns || node.Value.Ns.StartsWith(ns + ":", StringComparison.Ordinal))
                {
                    Remove(node);
                    gone++;
                }

                node = next;
            }

            return ValueTask.FromResult(gone);
        }
    }

    public ValueTask<(long Entries, long Bytes)> CountAsync()
    {
        lock (_lock)
        {
            return ValueTask.FromResult(((long)_items.Count, _bytes));
        }
    }

    private static string Id(string ns, byte[] key) => ns + "\n" + Convert.ToHexString(key);

    private void Remove(LinkedListNode<Item> node)
    {
        _recent.Remove(node);
        _items.Remove(node.Value.Id);
        _bytes -= node.Value.Size;
    }

    private sealed record Item(string Id, string Ns, CacheEntry Entry, long Size, DateTimeOffset Expires);
}

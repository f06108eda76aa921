namespace Tollgate.Gateway.Alerts;

/// <summary>
/// The de-duplication keys of alerts raised by this process, each until the instant after which it cannot recur (its
/// period's end: keys embed the period start). Bounded: past the capacity the key that expires soonest is forgotten
/// first. Forgetting early never re-sends an alert, because the database keeps every key unique (<c>alerts.dedupe_key</c>)
/// and storing a duplicate is a no-op; it only costs that repeat a database write.
/// </summary>
internal sealed class RaisedAlerts(int capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _keys = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, DateTimeOffset> _byExpiry = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count;
            }
        }
    }

    /// <summary>False when the key is remembered (raised before and not yet expired); otherwise remembers it.</summary>
    public bool TryAdd(string key, DateTimeOffset forgetAfter, DateTimeOffset now)
    {
        lock (_lock)
        {
            Expire(now);
            if (_keys.ContainsKey(key))
            {
                return false;
            }

            if (_keys.Count >= capacity && _byExpiry.TryDequeue(out var soonest, out _))
            {
                _keys.Remove(soonest);
            }

            _keys[key] = forgetAfter;
            _byExpiry.Enqueue(key, forgetAfter);
            return true;
        }
    }

    private void Expire(DateTimeOffset now)
    {
        while (_byExpiry.TryPeek(out var key, out var forgetAfter) && forgetAfter <= now)
        {
            _byExpiry.Dequeue();
            _keys.Remove(key);
        }
    }
}

using System.Collections.Concurrent;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Proxy;

/// <summary>Which provider created a Responses API response, for which key and model.</summary>
public sealed record ResponseOwner(string Provider, string KeyId, string Model);

/// <summary>
/// Remembers who created each response so follow-ups and <c>previous_response_id</c> go only to that provider and only
/// for that key. Recent ones are answered from memory; older ones from the ledger, where every response id is recorded.
/// </summary>
public sealed class ResponseOwners(Database db, LedgerWriter ledger)
{
    private const int Capacity = 100_000;
    private readonly ConcurrentDictionary<string, ResponseOwner> _recent = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public void Remember(string responseId, ResponseOwner owner)
    {
        if (_recent.TryAdd(responseId, owner))
        {
            _order.Enqueue(responseId);
            while (_recent.Count > Capacity && _order.TryDequeue(out var oldest))
            {
                _recent.TryRemove(oldest, out _);
            }
        }
    }

    public async ValueTask<ResponseOwner?> FindAsync(string responseId)
    {
        if (_recent.TryGetValue(responseId, out var owner))
        {
            return owner;
        }

        await ledger.FlushAsync();
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT provider, key_id, requested_model FROM usage WHERE response_id = @id AND key_id IS NOT NULL AND status < 400 ORDER BY ts LIMIT 1";
        Database.AddParameters(command, ("@id", responseId));
        using var reader = command.ExecuteReader();
        return reader.Read() ? new ResponseOwner(reader.GetString(0), reader.GetString(1), reader.GetString(2)) : null;
    }
}

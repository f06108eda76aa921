using System.Collections.Concurrent;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Proxy;

/// <summary>Which provider created a Responses API response, for which key and model.</summary>
internal sealed record ResponseOwner(string Provider, string KeyId, string Model);

/// <summary>
/// Remembers who created each response so follow-ups and <c>previous_response_id</c> go only to that provider and only
/// for that key. This replica's responses are answered from memory (remembered as each call ends); others' from the
/// ledger, where every response id is recorded, with an asynchronous query (never a wait for this replica's writer:
/// what it has not written yet is in memory).
/// </summary>
internal sealed class ResponseOwners(Database db)
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

    public async ValueTask<ResponseOwner?> FindAsync(string responseId, CancellationToken cancel)
    {
        if (_recent.TryGetValue(responseId, out var owner))
        {
            return owner;
        }

        await using var connection = await db.OpenAsync(cancel);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT provider, key_id, requested_model FROM usage WHERE response_id = @id AND key_id IS NOT NULL AND status < 400 ORDER BY ts LIMIT 1";
        Database.AddParameters(command, ("@id", responseId));
        await using var reader = await command.ExecuteReaderAsync(cancel);
        return await reader.ReadAsync(cancel) ? new ResponseOwner(reader.GetString(0), reader.GetString(1), reader.GetString(2)) : null;
    }
}

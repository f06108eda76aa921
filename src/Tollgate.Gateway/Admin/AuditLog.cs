using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Admin;

/// <summary>One admin change: who, what, the object before and after, when.</summary>
internal sealed record AuditEntry(string Id, DateTimeOffset At, string Actor, string Action, string Target, JsonNode? Before, JsonNode? After);

/// <summary>
/// Records every admin change. An endpoint filter on the admin group snapshots the target before the handler runs
/// (through <see cref="Snapshots"/>) and takes the handler's JSON result as the object after it. Secrets never enter
/// the log: <c>key</c>, <c>secret</c> and <c>api_key</c> members are removed.
/// </summary>
internal sealed class AuditLog(Database db, TimeProvider time)
{
    private static readonly string[] SecretMembers = ["key", "secret", "api_key"];

    /// <summary>How to read the current state of an admin resource by its path segments (collection, id...).</summary>
    public Dictionary<string, Func<IServiceProvider, string, object?>> Snapshots { get; } = new(StringComparer.Ordinal);

    public async ValueTask<object?> RecordAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, string actor)
    {
        var http = context.HttpContext;
        var (collection, id) = AdminEndpoints.Target(http.Request.Path);
        var before = id.Length > 0 && Snapshots.TryGetValue(collection, out var snapshot) ? Redact(snapshot(http.RequestServices, id)) : null;
        var result = await next(context);
        if (http.Response.StatusCode >= 400 || result is IStatusCodeHttpResult { StatusCode: >= 400 })
        {
            return result;
        }

        var after = result is IValueHttpResult { Value: { } value } ? Redact(value) : null;
        var target = (after as JsonObject)?["id"]?.ToString() ?? (after as JsonObject)?["name"]?.ToString() ?? id;
        Write(new AuditEntry(KeyHash.NewId("aud_"), time.GetUtcNow(), actor, http.Request.Method + " " + http.Request.Path, collection + (target.Length > 0 ? "/" + target : ""), before, after));
        return result;
    }

    public IReadOnlyList<AuditEntry> List(DateTimeOffset from, DateTimeOffset to, Page page)
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, at, actor, action, target, before, after FROM audit WHERE at >= @from AND at < @to ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset";
        Database.AddParameters(command, ("@limit", page.Limit), ("@offset", page.Offset));
        Database.AddParameters(command, ("@from", from.ToUnixTimeMilliseconds()));
        Database.AddParameters(command, ("@to", to.ToUnixTimeMilliseconds()));
        using var r = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (r.Read())
        {
            entries.Add(new AuditEntry(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), r.GetString(3), r.GetString(4),
                r.IsDBNull(5) ? null : JsonNode.Parse(r.GetString(5)), r.IsDBNull(6) ? null : JsonNode.Parse(r.GetString(6))));
        }

        return entries;
    }

    private void Write(AuditEntry e)
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO audit (id, at, actor, action, target, before, after) VALUES (@id, @at, @actor, @action, @target, @before, @after)";
        Database.AddParameters(command, ("@id", e.Id), ("@at", e.At.ToUnixTimeMilliseconds()), ("@actor", e.Actor), ("@action", e.Action), ("@target", e.Target),
            ("@before", e.Before?.ToJsonString()), ("@after", e.After?.ToJsonString()));
        command.ExecuteNonQuery();
    }

    private static JsonNode? Redact(object? value)
    {
        if (value is null)
        {
            return null;
        }

        var node = JsonSerializer.SerializeToNode(value, value.GetType(), StoreJson.Options);
        if (node is JsonObject obj)
        {
            foreach (var member in SecretMembers)
            {
                obj.Remove(member);
            }
        }

        return node;
    }
}

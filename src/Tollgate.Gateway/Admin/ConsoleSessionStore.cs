using System.Security.Cryptography;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Admin;

/// <summary>
/// A signed-in console session as stored. <see cref="KeyId"/> is null for the master key, whose hash then ties the session
/// to the master key it was opened with (<see cref="MasterHash"/>): a new <c>TOLLGATE_MASTER_KEY</c> ends such sessions.
/// The CSRF token is stored as it is: the console reads it back with <c>GET /ui/api/session</c>, and on its own (without
/// the cookie) it grants nothing.
/// </summary>
internal sealed record ConsoleSession(string Role, string Actor, string? KeyId, string? MasterHash, string CsrfToken, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Console sessions in the shared database (docs/api.md "Console sessions"), so a sign-out or a revoked key ends a session
/// on every replica. Only the SHA-256 of a session id is stored: a copy of the database opens no session. Every lookup
/// reads the database (no cache): the admin API is not the hot path, and nothing can then outlive a sign-out.
/// </summary>
internal sealed class ConsoleSessionStore(Database db, TimeProvider time, GatewaySettings settings)
{
    /// <summary>Starts a session; returns its id (for the cookie only) and the stored session.</summary>
    public async Task<(string Id, ConsoleSession Session)> CreateAsync(string role, string actor, string? keyId, string? masterHash, CancellationToken cancel)
    {
        // Whole milliseconds, as stored: the session answered at sign-in is the one read back later.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
        var id = NewToken();
        var session = new ConsoleSession(role, actor, keyId, masterHash, NewToken(), now, now.AddHours(settings.SessionHours));
        await using var connection = await db.OpenAsync(cancel);
        await using (var sweep = connection.CreateCommand())
        {
            // Expired sessions are swept at each sign-in, which bounds the table by the sign-ins of one session lifetime.
            sweep.CommandText = "DELETE FROM console_sessions WHERE expires_at <= @now";
            Database.AddParameters(sweep, ("@now", now.ToUnixTimeMilliseconds()));
            await sweep.ExecuteNonQueryAsync(cancel);
        }

        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO console_sessions (id_hash, role, actor, key_id, master_hash, csrf_token, created_at, expires_at)
            VALUES (@hash, @role, @actor, @key, @master, @csrf, @created, @expires)
            """;
        Database.AddParameters(insert, ("@hash", KeyHash.Compute(id)), ("@role", role), ("@actor", actor), ("@key", keyId), ("@master", masterHash), ("@csrf", session.CsrfToken),
            ("@created", now.ToUnixTimeMilliseconds()), ("@expires", session.ExpiresAt.ToUnixTimeMilliseconds()));
        await insert.ExecuteNonQueryAsync(cancel);
        return (id, session);
    }

    /// <summary>The unexpired session with this id, or null.</summary>
    public async Task<ConsoleSession?> FindAsync(string id, CancellationToken cancel)
    {
        if (id.Length is 0 or > 256)
        {
            return null;
        }

        await using var connection = await db.OpenAsync(cancel);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT role, actor, key_id, master_hash, csrf_token, created_at, expires_at FROM console_sessions WHERE id_hash = @hash AND expires_at > @now";
        Database.AddParameters(command, ("@hash", KeyHash.Compute(id)), ("@now", time.GetUtcNow().ToUnixTimeMilliseconds()));
        await using var r = await command.ExecuteReaderAsync(cancel);
        return await r.ReadAsync(cancel)
            ? new ConsoleSession(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)))
            : null;
    }

    public async Task DeleteAsync(string id, CancellationToken cancel)
    {
        await using var connection = await db.OpenAsync(cancel);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM console_sessions WHERE id_hash = @hash";
        Database.AddParameters(command, ("@hash", KeyHash.Compute(id)));
        await command.ExecuteNonQueryAsync(cancel);
    }

    /// <summary>32 random bytes, base64url: the session id and the CSRF token.</summary>
    private static string NewToken() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}

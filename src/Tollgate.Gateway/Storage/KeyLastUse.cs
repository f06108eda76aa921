using System.Data.Common;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// When each key was last used: the latest <c>ts</c> of its records, kept by the ledger sinks in the transaction that
/// inserts them (like the roll-ups), so the key list shows it with one small read whatever the ledger's size, on
/// every replica, and never touches the request path.
/// </summary>
internal static class KeyLastUse
{
    private const string Table = "key_last_use";

    /// <param name="greatest">The engine's two-argument maximum: <c>MAX</c> on SQLite, <c>GREATEST</c> on PostgreSQL.</param>
    public static string UpsertValues(string greatest) => $"INSERT INTO {Table} (key_id, at) VALUES (?, ?){OnConflict(greatest)}";

    /// <summary>The latest record of each key among the rows of <paramref name="source"/>.</summary>
    public static string UpsertFrom(string source, string greatest) =>
        $"INSERT INTO {Table} (key_id, at) SELECT key_id, MAX(ts) FROM {source} WHERE key_id IS NOT NULL GROUP BY key_id ORDER BY key_id{OnConflict(greatest)}";

    private static string OnConflict(string greatest) => $" ON CONFLICT (key_id) DO UPDATE SET at = {greatest}({Table}.at, excluded.at)";

    /// <summary>Creates the table when the database lacks it and fills it from the ledger once (as <see cref="UsageRollup.Create"/>).</summary>
    public static void Create(DbConnection connection, Func<DbConnection, string, bool> exists, string wholeNumber, string greatest)
    {
        if (exists(connection, Table))
        {
            return;
        }

        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandTimeout = 0;
        command.CommandText = $"CREATE TABLE {Table} (key_id TEXT PRIMARY KEY, at {wholeNumber} NOT NULL); " + UpsertFrom("usage", greatest);
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Every key's last use, or only <paramref name="keyId"/>'s.</summary>
    public static Dictionary<string, DateTimeOffset> Read(Database db, string? keyId = null)
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT key_id, at FROM {Table}" + (keyId is null ? "" : " WHERE key_id = @id");
        if (keyId is not null)
        {
            Database.AddParameters(command, ("@id", keyId));
        }
        using var reader = command.ExecuteReader();
        var lastUse = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        while (reader.Read())
        {
            lastUse[reader.GetString(0)] = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));
        }

        return lastUse;
    }
}

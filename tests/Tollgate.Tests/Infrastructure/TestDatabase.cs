using Microsoft.Data.Sqlite;
using Tollgate.Gateway.Storage;

namespace Tollgate.Tests.Infrastructure;

/// <summary>
/// A database of its own for storage tests, on the engine the suite runs on: a SQLite file, or a fresh PostgreSQL
/// database when TOLLGATE_TEST_POSTGRES is set. Not migrated: a test may first lay out an older schema.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly string? _file;
    private readonly string? _postgres;

    private TestDatabase(Database db, string? file, string? postgres)
    {
        Db = db;
        _file = file;
        _postgres = postgres;
    }

    public Database Db { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        if (await TestPostgres.CreateDatabaseAsync() is { } name)
        {
            return new TestDatabase(new PostgresDatabase(TestPostgres.ConnectionString(name)), null, name);
        }

        var file = Path.Combine(Path.GetTempPath(), "tollgate-db-" + Guid.NewGuid().ToString("N") + ".db");
        return new TestDatabase(new SqliteDatabase(file), file, null);
    }

    /// <summary>Runs a statement; returns the first column of the first row, if any.</summary>
    public object? Execute(string sql, params (string, object?)[] parameters)
    {
        using var connection = Db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        Database.AddParameters(command, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>The rows of a query, each as its columns' text joined by spaces (null as "null"), in the query's order.</summary>
    public List<string> Rows(string sql)
    {
        using var connection = Db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join(' ', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        (Db as IDisposable)?.Dispose();
        if (_file is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var path in new[] { _file, _file + "-wal", _file + "-shm" })
            {
                File.Delete(path);
            }
        }

        await TestPostgres.DropDatabaseAsync(_postgres);
    }
}

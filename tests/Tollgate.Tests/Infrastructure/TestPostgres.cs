using Npgsql;

namespace Tollgate.Tests.Infrastructure;

/// <summary>
/// When TOLLGATE_TEST_POSTGRES is set (test.sh does so for its second run), every test gateway runs on PostgreSQL
/// (a database of its own, dropped afterwards) and Redis instead of SQLite and in-process counters: the same suite, both stacks.
/// </summary>
public static class TestPostgres
{
    public static readonly string? Server = Environment.GetEnvironmentVariable("TOLLGATE_TEST_POSTGRES") is { Length: > 0 } server ? server : null;

    public static bool Enabled => Server is not null;

    public static string ConnectionString(string database) => $"{Server};Database={database}";

    public static async Task<string?> CreateDatabaseAsync()
    {
        if (Server is null)
        {
            return null;
        }

        var name = "tollgate_test_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection($"{Server};Database=postgres");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    public static async Task DropDatabaseAsync(string? name)
    {
        if (Server is null || name is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection($"{Server};Database=postgres");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}

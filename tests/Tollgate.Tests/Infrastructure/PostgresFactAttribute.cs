namespace Tollgate.Tests.Infrastructure;

/// <summary>A test that needs the shared stack (PostgreSQL + Redis): it runs in test.sh's PostgreSQL + Redis pass and is reported skipped in the other.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestPostgres.Enabled)
        {
            Skip = "needs TOLLGATE_TEST_POSTGRES (set by test.sh for its PostgreSQL + Redis run)";
        }
    }
}

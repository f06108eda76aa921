using System.Text.Json;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Quota rules, group budgets and group limits: persisted, and served from an immutable snapshot that every change
/// replaces at once, so an edit applies to the very next request.
/// </summary>
internal sealed class GovernanceStore(Database db)
{
    private volatile Snapshot _current = new([], [], [], new Dictionary<string, Plan>());

    public Snapshot Current => _current;

    public void Load()
    {
        using var connection = db.Open();
        _current = new Snapshot(
            Read(connection, "SELECT id, name, limit_tokens, cycle, time_zone, consumers, enabled, created_at FROM quota_rules ORDER BY created_at, id", r => new QuotaRule(
                r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetString(4),
                JsonSerializer.Deserialize<string[]>(r.GetString(5)) ?? [], r.GetInt64(6) == 1, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7)))),
            Read(connection, "SELECT id, scope, subject, spec, created_at FROM budgets ORDER BY created_at, id", r => new GroupBudget(
                r.GetString(0), r.GetString(1), r.GetString(2),
                JsonSerializer.Deserialize<BudgetSpec>(r.GetString(3), StoreJson.Options)!, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)))),
            Read(connection, "SELECT id, scope, subject, limits, created_at FROM limits ORDER BY created_at, id", r => new GroupLimit(
                r.GetString(0), r.GetString(1), r.GetString(2),
                JsonSerializer.Deserialize<KeyLimits>(r.GetString(3), StoreJson.Options)!, DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)))),
            Read(connection, "SELECT spec FROM plans", r => JsonSerializer.Deserialize<Plan>(r.GetString(0), StoreJson.Options)!).ToDictionary(p => p.Name, StringComparer.Ordinal));
    }

    public void Save(QuotaRule rule) => Execute(
        """
        INSERT INTO quota_rules (id, name, limit_tokens, cycle, time_zone, consumers, enabled, created_at)
        VALUES (@id, @name, @limit, @cycle, @tz, @consumers, @enabled, @created)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, limit_tokens = excluded.limit_tokens, cycle = excluded.cycle,
            time_zone = excluded.time_zone, consumers = excluded.consumers, enabled = excluded.enabled
        """,
        ("@id", rule.Id), ("@name", rule.Name), ("@limit", rule.LimitTokens), ("@cycle", rule.Cycle), ("@tz", rule.TimeZone),
        ("@consumers", JsonSerializer.Serialize(rule.Consumers)), ("@enabled", rule.Enabled ? 1 : 0), ("@created", rule.CreatedAt.ToUnixTimeMilliseconds()));

    public void Save(GroupBudget budget) => Execute(
        """
        INSERT INTO budgets (id, scope, subject, spec, created_at) VALUES (@id, @scope, @subject, @spec, @created)
        ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, subject = excluded.subject, spec = excluded.spec
        """,
        ("@id", budget.Id), ("@scope", budget.Scope), ("@subject", budget.Subject), ("@spec", JsonSerializer.Serialize(budget.Spec, StoreJson.Options)),
        ("@created", budget.CreatedAt.ToUnixTimeMilliseconds()));

    public void Save(GroupLimit limit) => Execute(
        """
        INSERT INTO limits (id, scope, subject, limits, created_at) VALUES (@id, @scope, @subject, @limits, @created)
        ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, subject = excluded.subject, limits = excluded.limits
        """,
        ("@id", limit.Id), ("@scope", limit.Scope), ("@subject", limit.Subject), ("@limits", JsonSerializer.Serialize(limit.Limits, StoreJson.Options)),
        ("@created", limit.CreatedAt.ToUnixTimeMilliseconds()));

    public void Save(Plan plan) => Execute(
        "INSERT INTO plans (name, spec, created_at) VALUES (@name, @spec, @created) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec",
        ("@name", plan.Name), ("@spec", JsonSerializer.Serialize(plan, StoreJson.Options)), ("@created", plan.CreatedAt.ToUnixTimeMilliseconds()));

    public bool Delete(string table, string id) => Execute($"DELETE FROM {table} WHERE {(table == "plans" ? "name" : "id")} = @id", ("@id", id)) > 0;

    /// <summary>Runs a change, then re-reads the snapshot so the next request sees it.</summary>
    private int Execute(string sql, params (string, object?)[] parameters)
    {
        var changed = db.Execute(sql, parameters);
        Load();
        return changed;
    }

    private static List<T> Read<T>(System.Data.Common.DbConnection connection, string sql, Func<System.Data.Common.DbDataReader, T> map)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
        {
            list.Add(map(reader));
        }

        return list;
    }

    public sealed record Snapshot(IReadOnlyList<QuotaRule> QuotaRules, IReadOnlyList<GroupBudget> Budgets, IReadOnlyList<GroupLimit> Limits, IReadOnlyDictionary<string, Plan> Plans)
    {
        /// <summary>The same configuration by (scope, subject), for the per-call look-ups.</summary>
        internal GovernanceIndex Index { get; } = new(QuotaRules, Budgets, Limits);
    }
}

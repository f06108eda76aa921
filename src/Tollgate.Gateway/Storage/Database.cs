using System.Data.Common;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// The one storage abstraction for configuration, audit and the ledger: an ADO.NET connection plus the few things
/// that differ between engines (schema, date functions, the ledger's bulk write). SQL elsewhere is written once, in
/// the dialect both SQLite and PostgreSQL accept (<c>@name</c> parameters, <c>ON CONFLICT</c>, quoted <c>"user"</c>).
/// </summary>
public abstract class Database
{
    public abstract DbConnection Open();

    /// <summary>Creates or upgrades the schema; safe to run at every start and on every replica.</summary>
    public abstract void Migrate();

    /// <summary>SQL for the UTC day (<c>YYYY-MM-DD</c>) of a millisecond timestamp column.</summary>
    public abstract string DayOf(string column);

    /// <summary>SQL for the UTC month (<c>YYYY-MM</c>) of a millisecond timestamp column.</summary>
    public abstract string MonthOf(string column);

    /// <summary>Writes one batch of usage records in one transaction; a record already present (same id) is skipped.</summary>
    public abstract ILedgerSink OpenLedgerSink();

    public static void AddParameters(DbCommand command, params (string Name, object? Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
    }

    /// <summary>The usage table's columns in the order the sinks write them.</summary>
    public static readonly string[] UsageColumns =
    [
        "id", "ts", "key_id", "\"user\"", "team", "project", "cost_center", "customer", "feature", "environment", "agent", "session",
        "operation", "provider", "requested_model", "served_model", "stream", "input_tokens", "cached_tokens", "cache_write_tokens",
        "output_tokens", "reasoning_tokens", "cost_e10", "currency", "latency_ms", "ttft_ms", "status", "error_class", "estimated", "response_id",
    ];

    /// <summary>A record's values in <see cref="UsageColumns"/> order.</summary>
    public static object?[] UsageValues(UsageRecord r)
    {
        var a = r.Attribution;
        return
        [
            r.Id, r.Timestamp.ToUnixTimeMilliseconds(), r.KeyId, a.User, a.Team, a.Project, a.CostCenter, a.Customer, a.Feature, a.Environment, a.Agent, a.Session,
            r.Operation, r.Provider, r.RequestedModel, r.ServedModel, r.Stream ? 1L : 0L, r.InputTokens, r.CachedTokens, r.CacheWriteTokens,
            r.OutputTokens, r.ReasoningTokens, Money.ToE10(r.Cost), r.Currency, r.LatencyMs, r.TimeToFirstTokenMs, (long)r.Status, r.ErrorClass, r.Estimated ? 1L : 0L, r.ResponseId,
        ];
    }
}

/// <summary>The ledger writer's connection to the database, kept open for the writer's life.</summary>
public interface ILedgerSink : IDisposable
{
    void Write(IReadOnlyList<UsageRecord> batch);
}

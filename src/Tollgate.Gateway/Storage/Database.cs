using System.Data.Common;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Storage;

/// <summary>
/// The one storage abstraction for configuration, audit and the ledger: an ADO.NET connection plus the few things
/// that differ between engines (schema, date functions, the ledger's bulk write). SQL elsewhere is written once, in
/// the dialect both SQLite and PostgreSQL accept (<c>@name</c> parameters, <c>ON CONFLICT</c>, quoted <c>"user"</c>).
/// </summary>
internal abstract class Database
{
    public abstract DbConnection Open();

    /// <summary>
    /// An open connection for the request path, where no thread may block on the network: PostgreSQL opens it
    /// asynchronously; SQLite, a local file with no asynchronous I/O of its own, as <see cref="Open"/> does.
    /// </summary>
    public virtual ValueTask<DbConnection> OpenAsync(CancellationToken cancel) => ValueTask.FromResult(Open());

    /// <summary>Creates or upgrades the schema; safe to run at every start and on every replica.</summary>
    public abstract void Migrate();

    /// <summary>SQL for the UTC day (<c>YYYY-MM-DD</c>) of a millisecond timestamp column.</summary>
    public abstract string DayOf(string column);

    /// <summary>SQL for the UTC month (<c>YYYY-MM</c>) of a millisecond timestamp column.</summary>
    public abstract string MonthOf(string column);

    /// <summary>Writes one batch of usage records in one transaction; a record already present (same id) is skipped.</summary>
    public abstract ILedgerSink OpenLedgerSink();

    /// <summary>
    /// Ledger columns added after the first schema, in the order they were added: each engine's <see cref="Migrate"/>
    /// adds the ones an existing database lacks. <c>{I}</c> is the engine's 64-bit integer type.
    /// </summary>
    protected static readonly (string Name, string Definition)[] AddedUsageColumns =
    [
        ("cache_savings_e10", "{I} NOT NULL DEFAULT 0"),
        ("routing_savings_e10", "{I} NOT NULL DEFAULT 0"),

        // The unit prices (per million tokens, 1e-10 units) each call was charged at, for FOCUS rows per token kind;
        // null when the model had no price. Rows from before these columns keep unit_prices_recorded = 0.
        ("unit_prices_recorded", "{I} NOT NULL DEFAULT 0"),
        ("input_price_e10", "{I}"),
        ("cached_input_price_e10", "{I}"),
        ("cache_write_price_e10", "{I}"),
        ("output_price_e10", "{I}"),

        // Routes (docs/api.md "Routes"): every attempt of a call is its own record; they share request_id.
        ("request_id", "TEXT"),
        ("attempt", "{I} NOT NULL DEFAULT 1"),
        ("route", "TEXT"),
        ("routing_reason", "TEXT"),

        // The response cache (docs/api.md "Response and embedding cache"): exact|semantic on a call the cache answered,
        // and what the provider's own prompt cache saved (cache reads × (input price − cached price)).
        ("cache_hit", "TEXT"),
        ("provider_cache_savings_e10", "{I} NOT NULL DEFAULT 0"),
    ];

    /// <summary>The schema, written once; engines differ only in the names of their 64-bit integer and floating types.</summary>
    protected static string Schema(string wholeNumber, string fraction) => SchemaTemplate.Replace("{I}", wholeNumber, StringComparison.Ordinal).Replace("{R}", fraction, StringComparison.Ordinal);

    private const string SchemaTemplate = """
        CREATE TABLE IF NOT EXISTS settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS providers (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            base_url TEXT NOT NULL,
            api_key_encrypted TEXT,
            models TEXT NOT NULL DEFAULT '[]',
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS prices (
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            input_per_mtok TEXT NOT NULL,
            cached_input_per_mtok TEXT NOT NULL,
            cache_write_per_mtok TEXT NOT NULL,
            output_per_mtok TEXT NOT NULL,
            currency TEXT NOT NULL,
            PRIMARY KEY (provider, model)
        );
        CREATE TABLE IF NOT EXISTS keys (
            id TEXT PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            owner TEXT NOT NULL,
            models TEXT NOT NULL,
            created_at {I} NOT NULL,
            expires_at {I},
            revoked_at {I},
            limits TEXT,
            budget TEXT,
            plan TEXT
        );
        CREATE TABLE IF NOT EXISTS quota_rules (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            limit_tokens {I} NOT NULL,
            cycle TEXT NOT NULL,
            time_zone TEXT NOT NULL,
            consumers TEXT NOT NULL,
            enabled {I} NOT NULL,
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS budgets (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            spec TEXT NOT NULL,
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS limits (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            subject TEXT NOT NULL,
            limits TEXT NOT NULL,
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS alerts (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            created_at {I} NOT NULL,
            data TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE
        );
        CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created_at);
        CREATE TABLE IF NOT EXISTS webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS deliveries (
            alert_id TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts {I} NOT NULL,
            last_status {I},
            updated_at {I} NOT NULL,
            PRIMARY KEY (alert_id, webhook_id)
        );
        CREATE TABLE IF NOT EXISTS audit (
            id TEXT PRIMARY KEY,
            at {I} NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
        CREATE TABLE IF NOT EXISTS console_sessions (
            id_hash TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            actor TEXT NOT NULL,
            key_id TEXT,
            master_hash TEXT,
            csrf_token TEXT NOT NULL,
            created_at {I} NOT NULL,
            expires_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS refusals (
            hour {I} NOT NULL,
            code TEXT NOT NULL,
            count {I} NOT NULL,
            PRIMARY KEY (hour, code)
        );
        CREATE TABLE IF NOT EXISTS plans (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS routes (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS cache_policies (
            id TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            created_at {I} NOT NULL
        );
        CREATE TABLE IF NOT EXISTS usage (
            id TEXT PRIMARY KEY,
            ts {I} NOT NULL,
            key_id TEXT,
            "user" TEXT, team TEXT, project TEXT, cost_center TEXT, customer TEXT,
            feature TEXT, environment TEXT, agent TEXT, session TEXT,
            operation TEXT NOT NULL,
            provider TEXT NOT NULL,
            requested_model TEXT NOT NULL,
            served_model TEXT,
            response_id TEXT,
            stream {I} NOT NULL,
            input_tokens {I} NOT NULL,
            cached_tokens {I} NOT NULL,
            cache_write_tokens {I} NOT NULL,
            output_tokens {I} NOT NULL,
            reasoning_tokens {I} NOT NULL,
            cost_e10 {I} NOT NULL,
            currency TEXT NOT NULL,
            latency_ms {R} NOT NULL,
            ttft_ms {R},
            status {I} NOT NULL,
            error_class TEXT,
            estimated {I} NOT NULL
        );
        CREATE INDEX IF NOT EXISTS usage_ts ON usage (ts);
        CREATE INDEX IF NOT EXISTS usage_response ON usage (response_id) WHERE response_id IS NOT NULL;
        """;

    /// <summary>Runs one statement on its own connection; the number of rows it changed.</summary>
    public int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        AddParameters(command, parameters);
        return command.ExecuteNonQuery();
    }

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
        "cache_savings_e10", "routing_savings_e10",
        "unit_prices_recorded", "input_price_e10", "cached_input_price_e10", "cache_write_price_e10", "output_price_e10",
        "request_id", "attempt", "route", "routing_reason",
        "cache_hit", "provider_cache_savings_e10",
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
            Money.ToE10(r.CacheSavings), Money.ToE10(r.RoutingSavings),
            r.UnitPricesRecorded ? 1L : 0L, PriceE10(r.InputPerMtok), PriceE10(r.CachedInputPerMtok), PriceE10(r.CacheWritePerMtok), PriceE10(r.OutputPerMtok),
            r.RequestId ?? r.Id, (long)r.Attempt, r.Route, r.RoutingReason,
            r.CacheHit, Money.ToE10(r.ProviderCacheSavings),
        ];
    }

    /// <summary>A unit price as 1e-10 units, boxed as the sinks bind it; null stays null (the model had no price).</summary>
    private static object? PriceE10(decimal? price) => price is { } p ? Money.ToE10(p) : null;
}

/// <summary>The ledger writer's connection to the database, kept open for the writer's life.</summary>
internal interface ILedgerSink : IDisposable
{
    void Write(IReadOnlyList<UsageRecord> batch);
}

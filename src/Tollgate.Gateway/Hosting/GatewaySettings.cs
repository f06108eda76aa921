using System.Globalization;

namespace Tollgate.Gateway.Hosting;

/// <summary>
/// Start-up settings (docs/api.md "Running"): defaults, then <c>TOLLGATE_*</c> environment variables, then command-line flags.
/// Invalid values fail at start, never on the first request.
/// </summary>
internal sealed class GatewaySettings
{
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    public string DataDir { get; set; } = "./data";

    public string? MasterKey { get; set; }

    public string? SecretKey { get; set; }

    public bool Demo { get; set; }

    public string? Postgres { get; set; }

    public string? Redis { get; set; }

    public string? ConfigFile { get; set; }

    /// <summary>Largest accepted request body; larger gets 413 <c>request_too_large</c>.</summary>
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Attribution headers every proxied request must carry (or get from its key's owner fields).</summary>
    public IReadOnlyList<string> RequiredHeaders { get; set; } = [];

    /// <summary>
    /// Optional upper bound for one whole upstream exchange. Unset: 600 s for non-streaming calls and none for streams,
    /// which the idle timeout governs (reasoning models may stream for many minutes).
    /// </summary>
    public int? UpstreamTimeoutSeconds { get; set; }

    /// <summary>Longest silence from a provider between reads (headers included) before the call fails.</summary>
    public int UpstreamIdleTimeoutSeconds { get; set; } = 300;

    /// <summary>Largest single SSE event accepted from a provider; a larger one fails the call (it is still recorded).</summary>
    public int MaxSseEventBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Usage records waiting for the ledger writer; when full, the proxy waits (back-pressure) rather than drop a record.</summary>
    public int LedgerQueueCapacity { get; set; } = 100_000;

    public int LedgerBatchSize { get; set; } = 2_000;

    /// <summary>The in-process response cache's bound (<c>TOLLGATE_CACHE_MAX_MB</c>): least recently used entries go first.</summary>
    public int CacheMaxMb { get; set; } = 64;

    /// <summary>Prefix of every Redis key, so several deployments (or test runs) can share one Redis.</summary>
    public string RedisPrefix { get; set; } = "tollgate:";

    /// <summary>How often a replica checks that Redis still holds its counters (and rebuilds them from the ledger if not).</summary>
    public TimeSpan CounterCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>With the counter store unreachable, RPM/TPM limits let calls through (fail open).</summary>
    public bool RateLimitsFailOpen { get; set; } = true;

    /// <summary>With the counter store unreachable, budgets and quotas refuse calls with 503 (fail closed).</summary>
    public bool HardLimitsFailClosed { get; set; } = true;

    /// <summary>How long a tripped cost-velocity circuit stays open before it lets one request through.</summary>
    public int CircuitCooldownSeconds { get; set; } = 60;

    /// <summary>Waits between webhook delivery attempts (about 1 s, 5 s, 30 s, 2 min, 10 min), then the delivery is marked failed.</summary>
    public TimeSpan[] WebhookRetryDelays { get; set; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10)];

    /// <summary>usage.spike fires when the last 5 minutes' spend exceeds this factor times the trailing hour's 5-minute average.</summary>
    public decimal SpikeFactor { get; set; } = 3m;

    /// <summary>Output tokens reserved for a call that sets no max tokens (the overshoot bound depends on it).</summary>
    public long DefaultOutputCap { get; set; } = 4_096;

    /// <summary>
    /// Input-token reservations are the tokenizer's estimate times this factor until a provider's model has a calibrated
    /// ratio from settled calls (then that ratio): providers count up to this many times what o200k counts.
    /// </summary>
    public decimal ReservationMargin { get; set; } = 1.5m;

    /// <summary>Learn each model's factor from settled calls (else the margin always applies).</summary>
    public bool CalibrateReservations { get; set; } = true;

    /// <summary>Put the caller's user id on spans as <c>enduser.id</c> (off by default: it identifies a person).</summary>
    public bool TelemetryEndUser { get; set; }

    /// <summary>Absolute lifetime of a console session, in hours from sign-in.</summary>
    public int SessionHours { get; set; } = 8;

    /// <summary>Raw usage records older than this many days are deleted (the roll-ups keep their sums); null keeps them all.</summary>
    public int? LedgerRetentionDays { get; set; }

    /// <summary>Reads settings from the environment and the command line; returns the arguments left for ASP.NET Core.</summary>
    public static GatewaySettings Load(string[] args, Func<string, string?> env, out string[] remainingArgs)
    {
        var s = new GatewaySettings();
        s.Urls = env("TOLLGATE_URLS") ?? s.Urls;
        s.DataDir = env("TOLLGATE_DATA_DIR") ?? s.DataDir;
        s.MasterKey = env("TOLLGATE_MASTER_KEY");
        s.SecretKey = env("TOLLGATE_SECRET_KEY");
        s.Postgres = env("TOLLGATE_POSTGRES");
        s.Redis = env("TOLLGATE_REDIS");
        s.ConfigFile = env("TOLLGATE_CONFIG");
        s.MaxBodyBytes = Long(env("TOLLGATE_MAX_BODY_BYTES"), "TOLLGATE_MAX_BODY_BYTES") ?? s.MaxBodyBytes;
        s.RedisPrefix = env("TOLLGATE_REDIS_PREFIX") ?? s.RedisPrefix;
        s.RateLimitsFailOpen = Bool(env("TOLLGATE_RATE_LIMITS_FAIL_OPEN"), "TOLLGATE_RATE_LIMITS_FAIL_OPEN") ?? s.RateLimitsFailOpen;
        s.HardLimitsFailClosed = Bool(env("TOLLGATE_HARD_LIMITS_FAIL_CLOSED"), "TOLLGATE_HARD_LIMITS_FAIL_CLOSED") ?? s.HardLimitsFailClosed;
        s.CircuitCooldownSeconds = (int?)Long(env("TOLLGATE_CIRCUIT_COOLDOWN_SECONDS"), "TOLLGATE_CIRCUIT_COOLDOWN_SECONDS") ?? s.CircuitCooldownSeconds;
        s.DefaultOutputCap = Long(env("TOLLGATE_DEFAULT_OUTPUT_CAP"), "TOLLGATE_DEFAULT_OUTPUT_CAP") ?? s.DefaultOutputCap;
        s.ReservationMargin = Decimal(env("TOLLGATE_RESERVATION_MARGIN"), "TOLLGATE_RESERVATION_MARGIN") ?? s.ReservationMargin;
        s.CalibrateReservations = Bool(env("TOLLGATE_RESERVATION_CALIBRATION"), "TOLLGATE_RESERVATION_CALIBRATION") ?? s.CalibrateReservations;
        s.TelemetryEndUser = Bool(env("TOLLGATE_OTEL_ENDUSER"), "TOLLGATE_OTEL_ENDUSER") ?? s.TelemetryEndUser;
        s.UpstreamTimeoutSeconds = (int?)Long(env("TOLLGATE_UPSTREAM_TIMEOUT_SECONDS"), "TOLLGATE_UPSTREAM_TIMEOUT_SECONDS") ?? s.UpstreamTimeoutSeconds;
        s.UpstreamIdleTimeoutSeconds = (int?)Long(env("TOLLGATE_UPSTREAM_IDLE_TIMEOUT_SECONDS"), "TOLLGATE_UPSTREAM_IDLE_TIMEOUT_SECONDS") ?? s.UpstreamIdleTimeoutSeconds;
        s.MaxSseEventBytes = (int?)Long(env("TOLLGATE_MAX_SSE_EVENT_BYTES"), "TOLLGATE_MAX_SSE_EVENT_BYTES") ?? s.MaxSseEventBytes;
        s.SessionHours = (int?)Long(env("TOLLGATE_SESSION_HOURS"), "TOLLGATE_SESSION_HOURS") ?? s.SessionHours;
        s.LedgerRetentionDays = (int?)Long(env("TOLLGATE_LEDGER_RETENTION_DAYS"), "TOLLGATE_LEDGER_RETENTION_DAYS") ?? s.LedgerRetentionDays;
        s.CacheMaxMb = (int?)Long(env("TOLLGATE_CACHE_MAX_MB"), "TOLLGATE_CACHE_MAX_MB") ?? s.CacheMaxMb;
        if (env("TOLLGATE_REQUIRED_HEADERS") is { Length: > 0 } required)
        {
            s.RequiredHeaders = required.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--demo": s.Demo = true; break;
                case "--urls": s.Urls = Next(); break;
                case "--data-dir": s.DataDir = Next(); break;
                case "--postgres": s.Postgres = Next(); break;
                case "--redis": s.Redis = Next(); break;
                case "--config": s.ConfigFile = Next(); break;
                default: rest.Add(args[i]); break;
            }
        }

        remainingArgs = [.. rest];
        s.Validate();
        return s;
    }

    public void Validate()
    {
        if (MaxBodyBytes < 1024)
        {
            throw new ArgumentException("TOLLGATE_MAX_BODY_BYTES must be at least 1024");
        }

        if (CacheMaxMb is < 1 or > 1_048_576)
        {
            throw new ArgumentException("TOLLGATE_CACHE_MAX_MB must be between 1 and 1048576");
        }

        if (UpstreamTimeoutSeconds < 1)
        {
            throw new ArgumentException("TOLLGATE_UPSTREAM_TIMEOUT_SECONDS must be positive");
        }

        if (UpstreamIdleTimeoutSeconds < 1)
        {
            throw new ArgumentException("TOLLGATE_UPSTREAM_IDLE_TIMEOUT_SECONDS must be positive");
        }

        if (MaxSseEventBytes < 4096)
        {
            throw new ArgumentException("TOLLGATE_MAX_SSE_EVENT_BYTES must be at least 4096");
        }

        if (ReservationMargin is < 1m or > 10m)
        {
            throw new ArgumentException("TOLLGATE_RESERVATION_MARGIN must be between 1 and 10");
        }

        if (SessionHours is < 1 or > 720)
        {
            throw new ArgumentException("TOLLGATE_SESSION_HOURS must be between 1 and 720");
        }

        if (LedgerRetentionDays < 1)
        {
            throw new ArgumentException("TOLLGATE_LEDGER_RETENTION_DAYS must be at least 1");
        }

        // Refuse rather than silently run on the embedded stores when the operator asked for shared ones.
        if (ConfigFile is not null && !File.Exists(ConfigFile))
        {
            throw new ArgumentException($"The config file '{ConfigFile}' does not exist");
        }
    }

    private static bool? Bool(string? value, string name) =>
        value is null ? null
        : bool.TryParse(value, out var b) ? b
        : throw new ArgumentException($"{name} must be true or false");

    private static decimal? Decimal(string? value, string name) =>
        value is null ? null
        : decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v
        : throw new ArgumentException($"{name} must be a number");

    private static long? Long(string? value, string name) =>
        value is null ? null
        : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
        : throw new ArgumentException($"{name} must be an integer");
}

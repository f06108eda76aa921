using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;

namespace Tollgate.Benchmarks;

/// <summary>
/// Fills a gateway's ledger for bench/ledger-scale.sh: usage records spread evenly over the last N days for the app
/// keys the database already holds (their owner gives team and project), written in batches of 2 000 through the
/// gateway's own ledger sink, as the ledger writer writes them. Deterministic: the same arguments give the same ledger.
/// <code>
/// Tollgate.Benchmarks seed-ledger (--sqlite FILE | --postgres CONNECTION) [--records 5000000] [--days 90] [--drop-rollups]
/// Tollgate.Benchmarks postgres-db CONNECTION (create NAME [TEMPLATE] | drop NAME)
/// </code>
/// <c>--drop-rollups</c> leaves the ledger as a release without roll-ups would have it, so the gateway's next start
/// backfills them.
/// </summary>
internal static class LedgerSeed
{
    private const int Batch = 2_000;

    /// <summary>Ten models of four providers with list prices per million input, cached input and output tokens.</summary>
    private static readonly (string Provider, string Model, decimal Input, decimal Cached, decimal Output)[] Models =
    [
        ("openai", "gpt-4o", 2.5m, 1.25m, 10m),
        ("openai", "gpt-4o-mini", 0.15m, 0.075m, 0.6m),
        ("openai", "gpt-4.1", 2m, 0.5m, 8m),
        ("openai", "o3-mini", 1.1m, 0.55m, 4.4m),
        ("anthropic", "claude-sonnet-4-5", 3m, 0.3m, 15m),
        ("anthropic", "claude-haiku-4-5", 1m, 0.1m, 5m),
        ("anthropic", "claude-opus-4-1", 15m, 1.5m, 75m),
        ("azure", "gpt-4o", 2.5m, 1.25m, 10m),
        ("vllm", "llama-3.1-8b", 0.05m, 0.05m, 0.1m),
        ("vllm", "qwen2.5-72b", 0.4m, 0.4m, 0.8m),
    ];

    private static readonly string[] Features = ["chat", "search", "summarize", "classify", "extract", "codegen", "translate", "support"];

    public static int Run(string[] args)
    {
        if (args is ["postgres-db", var server, "create", var name, ..])
        {
            return Admin(server, $"CREATE DATABASE {name}" + (args.Length > 4 ? $" TEMPLATE {args[4]}" : ""));
        }

        if (args is ["postgres-db", var host, "drop", var dropped])
        {
            return Admin(host, $"DROP DATABASE IF EXISTS {dropped} WITH (FORCE)");
        }

        string? Option(string name) => Array.IndexOf(args, name) is >= 0 and var i && i + 1 < args.Length ? args[i + 1] : null;
        var records = long.Parse(Option("--records") ?? "5000000", CultureInfo.InvariantCulture);
        var days = int.Parse(Option("--days") ?? "90", CultureInfo.InvariantCulture);
        using var db = Option("--postgres") is { } postgres ? new Disposable(new PostgresDatabase(postgres)) : new Disposable(new SqliteDatabase(Option("--sqlite") ?? throw new ArgumentException("--sqlite FILE or --postgres CONNECTION")));
        db.Database.Migrate();
        var profiles = Profiles(db.Database);
        if (profiles.Length == 0)
        {
            throw new InvalidOperationException("No app keys in the database: create them first.");
        }

        var end = DateTimeOffset.UtcNow;
        var start = end.AddDays(-days);
        var step = (end - start).Ticks / records;
        var random = new Random(42);
        var cumulative = new double[profiles.Length];
        for (var (i, sum) = (0, 0.0); i < profiles.Length; i++)
        {
            // Zipf-like: a few keys carry most of the traffic, as in real deployments.
            sum += 1 / Math.Pow(i + 1, 0.8);
            cumulative[i] = sum;
        }

        var clock = Stopwatch.StartNew();
        var writing = new Stopwatch(); // the sink alone, without making up the records
        using var sink = db.Database.OpenLedgerSink();
        var batch = new List<UsageRecord>(Batch);
        for (long n = 0; n < records; n++)
        {
            var at = start.AddTicks((n * step) + random.NextInt64(step));
            var key = profiles[Pick(cumulative, random.NextDouble() * cumulative[^1])];
            batch.Add(key.Call(at, random));
            if (batch.Count == Batch || n == records - 1)
            {
                writing.Start();
                sink.Write(batch);
                writing.Stop();
                batch.Clear();
            }

            if ((n + 1) % 500_000 == 0)
            {
                Console.Error.WriteLine($"{n + 1:N0} records, {(n + 1) / clock.Elapsed.TotalSeconds:N0}/s");
            }
        }

        Console.WriteLine($"seeded={records} seconds={clock.Elapsed.TotalSeconds:F1} sink_us_per_record={writing.Elapsed.TotalMicroseconds / records:F1}");
        if (args.Contains("--drop-rollups"))
        {
            using var connection = db.Database.Open();
            using var command = connection.CreateCommand();
            command.CommandText = string.Concat(UsageRollup.All.Select(r => $"DROP TABLE IF EXISTS {r.Table}; "));
            command.ExecuteNonQuery();
        }

        return 0;
    }

    private static int Pick(double[] cumulative, double point)
    {
        var i = Array.BinarySearch(cumulative, point);
        return Math.Min(i < 0 ? ~i : i, cumulative.Length - 1);
    }

    private static Profile[] Profiles(Database db)
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, owner FROM keys WHERE role = 'app' ORDER BY id";
        using var reader = command.ExecuteReader();
        var profiles = new List<Profile>();
        while (reader.Read())
        {
            var owner = JsonSerializer.Deserialize<KeyOwner>(reader.GetString(1), StoreJson.Options) ?? KeyOwner.None;
            profiles.Add(new Profile(reader.GetString(0), owner, new Random(profiles.Count)));
        }

        return [.. profiles];
    }

    private static int Admin(string server, string sql)
    {
        using var connection = new NpgsqlConnection(server + ";Database=postgres");
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        command.ExecuteNonQuery();
        return 0;
    }

    /// <summary>One key's habits: a main model and a second one, one feature, an environment; some serve customers, end users, agents.</summary>
    private sealed class Profile
    {
        private readonly string _id;
        private readonly KeyOwner _owner;
        private readonly int _model;
        private readonly int _secondModel;
        private readonly string _feature;
        private readonly string _environment;
        private readonly string? _customer;
        private readonly string? _agent;
        private readonly string[] _users;
        private long _calls;

        public Profile(string id, KeyOwner owner, Random random)
        {
            _id = id;
            _owner = owner;
            _model = random.Next(Models.Length);
            _secondModel = random.Next(Models.Length);
            _feature = Features[random.Next(Features.Length)];
            _environment = random.NextDouble() < 0.9 ? "prod" : "staging";
            _customer = random.NextDouble() < 0.3 ? "customer-" + random.Next(15).ToString("D2", CultureInfo.InvariantCulture) : null;
            _agent = random.NextDouble() < 0.1 ? "agent-" + random.Next(5).ToString(CultureInfo.InvariantCulture) : null;
            _users = random.NextDouble() < 0.2 ? [.. Enumerable.Range(0, 5).Select(i => $"{id}-user{i}")] : [];
        }

        public UsageRecord Call(DateTimeOffset at, Random random)
        {
            var (provider, model, inputPrice, cachedPrice, outputPrice) = Models[random.NextDouble() < 0.8 ? _model : _secondModel];
            var failed = random.NextDouble() < 0.02;
            long input = failed ? 0 : 200 + (long)(random.NextDouble() * random.NextDouble() * 8_000);
            long cached = provider is "vllm" || failed ? 0 : (long)(input * random.NextDouble() * 0.5);
            long output = failed ? 0 : 50 + random.Next(1_500);
            var record = new UsageRecord
            {
                Id = Guid.CreateVersion7(at).ToString(),
                Timestamp = at,
                KeyId = _id,
                Attribution = new Attribution(_users.Length == 0 ? null : _users[random.Next(_users.Length)], _owner.Team, _owner.Project, _owner.CostCenter,
                    _customer ?? _owner.Customer, _feature, _environment, _agent, _agent is null ? null : $"{_id}-s{_calls++ / 20}"),
                Operation = "chat",
                Provider = provider,
                RequestedModel = provider + "/" + model,
                ServedModel = model,
                Stream = random.NextDouble() < 0.6,
                InputTokens = input,
                CachedTokens = cached,
                OutputTokens = output,
                ReasoningTokens = model == "o3-mini" ? output / 2 : 0,
                Cost = (((input - cached) * inputPrice) + (cached * cachedPrice) + (output * outputPrice)) / 1_000_000m,
                LatencyMs = 200 + random.Next(5_000),
                Status = failed ? 500 : 200,
                ErrorClass = failed ? "upstream_500" : null,
            };
            record.ChargeAt(new Tollgate.Gateway.Pricing.ModelPrice(inputPrice, cachedPrice, inputPrice, outputPrice, "USD"));
            return record;
        }
    }

    /// <summary>Either engine's database, disposed when it holds a connection pool (PostgreSQL).</summary>
    private sealed class Disposable(Database database) : IDisposable
    {
        public Database Database => database;

        public void Dispose() => (database as IDisposable)?.Dispose();
    }
}

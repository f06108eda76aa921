using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Routing;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Tollgate.Gateway.Hosting;

/// <summary>
/// Applies <c>--config tollgate.yaml</c> at start and again whenever the file changes. Objects from the file are
/// "managed": the admin API marks them and refuses to edit them, and an object removed from the file is removed from
/// the gateway at the next reload. A file that does not load stops the start; at a reload it is reported and the
/// running configuration stays. Requests are never paused: every store swaps its state atomically.
/// </summary>
internal sealed partial class ConfigLoader(
    GatewaySettings settings,
    ProviderRegistry providers,
    PriceCatalog prices,
    KeyService keys,
    GovernanceStore governance,
    RouteTable routes,
    Caching.CachePolicyTable cachePolicies,
    CounterRebuilder rebuilder,
    ConfigSync sync,
    TimeProvider time,
    ILogger<ConfigLoader> log) : BackgroundService
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
    private readonly Lock _applyLock = new();
    private Managed _managed = new([], [], [], [], [], [], [], [], []);

    /// <summary>The ids (names for providers, plans and routes) of objects the file manages, by admin collection.</summary>
    public bool IsManaged(string collection, string id) => _managed.For(collection)?.Contains(id) ?? false;

    /// <summary>Required attribution headers: the setting plus the file's policy.</summary>
    public IReadOnlyList<string> RequiredHeaders { get; private set; } = settings.RequiredHeaders;

    /// <summary>The first load, at start (counters are rebuilt from the ledger right after it).</summary>
    public void Load()
    {
        if (settings.ConfigFile is { } path)
        {
            Apply(Parse(File.ReadAllText(path)), rebuild: false);
        }
    }

    public static DeclarativeConfig Parse(string yaml) => Yaml.Deserialize<DeclarativeConfig?>(yaml) ?? new DeclarativeConfig();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.ConfigFile is not { } path)
        {
            return;
        }

        var full = Path.GetFullPath(path);
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        var changed = new SemaphoreSlim(0);
        FileSystemEventHandler onChange = (_, _) => changed.Release();
        watcher.Changed += onChange;
        watcher.Created += onChange;
        watcher.Renamed += (_, _) => changed.Release();
        watcher.EnableRaisingEvents = true;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await changed.WaitAsync(stoppingToken);
                await Task.Delay(200, stoppingToken); // editors write in several steps; read once they are done
                while (changed.CurrentCount > 0)
                {
                    await changed.WaitAsync(stoppingToken);
                }

                try
                {
                    Apply(Parse(await File.ReadAllTextAsync(full, stoppingToken)), rebuild: true);
                    await sync.PublishAsync();
                    LogReloaded(log, full);
                }
                catch (Exception e) when (e is IOException or YamlDotNet.Core.YamlException or ArgumentException or InvalidOperationException)
                {
                    LogReloadFailed(log, full, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Apply(DeclarativeConfig config, bool rebuild)
    {
        Validate(config);
        lock (_applyLock)
        {
            var now = time.GetUtcNow();
            var previous = _managed;
            var next = new Managed([], [], [], [], [], [], [], [], []);
            foreach (var p in config.Providers)
            {
                var kind = ProviderKinds.Parse(p.Kind) ?? throw new ArgumentException($"provider {p.Name}: unknown kind '{p.Kind}'");
                var apiKey = p.ApiKeyEnv is { } env ? Environment.GetEnvironmentVariable(env) ?? throw new ArgumentException($"provider {p.Name}: environment variable {env} is not set") : null;
                providers.Upsert(p.Name, kind, p.BaseUrl ?? kind.DefaultBaseUrl() ?? throw new ArgumentException($"provider {p.Name}: base_url is required"), apiKey, p.Models);
                next.Providers.Add(p.Name);
            }

            foreach (var p in config.Prices)
            {
                prices.Set(p.Provider, p.Model, new ModelPrice(p.InputPerMtok, p.CachedInputPerMtok ?? p.InputPerMtok, p.CacheWritePerMtok ?? p.InputPerMtok, p.OutputPerMtok, p.Currency));
                next.Prices.Add(p.Provider + "/" + p.Model);
            }

            foreach (var p in config.Plans)
            {
                governance.Save(new Plan(p.Name, p.Models, p.DailyBudget, p.DailyRequests, p.ModelDailyRequests, p.Rpm, p.Tpm, p.TimeZone,
                    governance.Current.Plans.GetValueOrDefault(p.Name)?.CreatedAt ?? now));
                next.Plans.Add(p.Name);
            }

            foreach (var b in config.Budgets)
            {
                governance.Save(new GroupBudget(Required(b.Id, "budget id"), b.Scope, b.Subject, b.ToSpec(), now));
                next.Budgets.Add(b.Id);
            }

            foreach (var q in config.QuotaRules)
            {
                governance.Save(new QuotaRule(Required(q.Id, "quota rule id"), q.Name, q.LimitTokens, q.Cycle, q.TimeZone, q.Consumers, q.Enabled, now));
                next.QuotaRules.Add(q.Id);
            }

            foreach (var l in config.Limits)
            {
                governance.Save(new GroupLimit(Required(l.Id, "limit id"), l.Scope, l.Subject, l.ToLimits(), now));
                next.Limits.Add(l.Id);
            }

            foreach (var r in config.Routes)
            {
                routes.Save(r.ToRoute(routes.Find(r.Name)?.CreatedAt ?? now));
                next.Routes.Add(r.Name);
            }

            foreach (var c in config.CachePolicies)
            {
                cachePolicies.Save(c.ToPolicy(cachePolicies.Find(c.Id)?.CreatedAt ?? now));
                next.CachePolicies.Add(c.Id);
            }

            foreach (var k in config.Keys)
            {
                var id = k.Id ?? "key_" + k.Name;
                var hash = k.KeyHash?.ToLowerInvariant()
                    ?? (k.KeyEnv is { } env ? Environment.GetEnvironmentVariable(env) is { } secret ? KeyHash.Compute(secret) : throw new ArgumentException($"key {k.Name}: environment variable {env} is not set") : null)
                    ?? throw new ArgumentException($"key {k.Name}: key_hash or key_env is required");
                keys.Upsert(new VirtualKey(id, hash, "tg-…", k.Name, k.Role, k.Owner?.ToOwner() ?? KeyOwner.None, k.Models, now, k.ExpiresAt, null)
                {
                    Plan = k.Plan,
                    Limits = k.Limits?.ToLimits(),
                    Budget = k.Budget?.ToSpec(),
                });
                next.Keys.Add(id);
            }

            // What the file no longer lists goes away.
            foreach (var name in previous.Providers.Except(next.Providers))
            {
                providers.Delete(name);
            }

            foreach (var (table, ids) in new[] { ("plans", previous.Plans.Except(next.Plans)), ("budgets", previous.Budgets.Except(next.Budgets)), ("quota_rules", previous.QuotaRules.Except(next.QuotaRules)), ("limits", previous.Limits.Except(next.Limits)) })
            {
                foreach (var id in ids)
                {
                    governance.Delete(table, id);
                }
            }

            foreach (var id in previous.Keys.Except(next.Keys))
            {
                keys.Delete(id);
            }

            foreach (var name in previous.Routes.Except(next.Routes))
            {
                routes.Delete(name);
            }

            foreach (var id in previous.CachePolicies.Except(next.CachePolicies))
            {
                cachePolicies.Delete(id);
            }

            RequiredHeaders = [.. settings.RequiredHeaders.Union(config.Policies.RequiredHeaders, StringComparer.OrdinalIgnoreCase)];
            _managed = next;
            if (rebuild)
            {
                // Only what is new starts from the ledger: rebuilding a counter in use would forget the reservations in flight.
                foreach (var b in governance.Current.Budgets.Where(b => next.Budgets.Contains(b.Id) && !previous.Budgets.Contains(b.Id)))
                {
                    rebuilder.RebuildBudgetAsync(b.Scope, b.Subject, b.Spec, now).GetAwaiter().GetResult();
                }

                foreach (var q in governance.Current.QuotaRules.Where(q => next.QuotaRules.Contains(q.Id) && !previous.QuotaRules.Contains(q.Id)))
                {
                    rebuilder.RebuildQuotaAsync(q, now).GetAwaiter().GetResult();
                }
            }
        }
    }

    /// <summary>Checks the whole file before anything is applied, so a bad file changes nothing.</summary>
    private static void Validate(DeclarativeConfig config)
    {
        foreach (var p in config.Providers)
        {
            _ = ProviderKinds.Parse(p.Kind) ?? throw new ArgumentException($"provider {p.Name}: unknown kind '{p.Kind}'");
            if (p.ApiKeyEnv is { } env && Environment.GetEnvironmentVariable(env) is null)
            {
                throw new ArgumentException($"provider {p.Name}: environment variable {env} is not set");
            }
        }

        foreach (var k in config.Keys)
        {
            if (k.KeyHash is null && (k.KeyEnv is null || Environment.GetEnvironmentVariable(k.KeyEnv) is null))
            {
                throw new ArgumentException($"key {k.Name}: key_hash, or key_env naming a set environment variable, is required");
            }
        }

        foreach (var (what, period, zone, allowTotal) in config.Budgets.Select(b => ("budget " + b.Id, b.Period, b.TimeZone ?? "UTC", true))
            .Concat(config.QuotaRules.Select(q => ("quota rule " + q.Id, q.Cycle, q.TimeZone, false)))
            .Concat(config.Plans.Select(p => ("plan " + p.Name, "day", p.TimeZone, false))))
        {
            if (!Periods.IsValid(period, allowTotal) || Periods.FindZone(zone) is null)
            {
                throw new ArgumentException($"{what}: invalid period '{period}' or time zone '{zone}'");
            }
        }

        foreach (var scope in config.Budgets.Select(b => b.Scope).Concat(config.Limits.Select(l => l.Scope)))
        {
            if (Scope.FindGroup(scope) is null)
            {
                throw new ArgumentException($"unknown scope '{scope}'");
            }
        }

        var routeNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in config.Routes)
        {
            if (RouteValidation.Validate(r.ToRoute(DateTimeOffset.UnixEpoch)) is { } invalid)
            {
                throw new ArgumentException($"route {r.Name}: {invalid.Message}");
            }

            if (!routeNames.Add(r.Name))
            {
                throw new ArgumentException($"route {r.Name}: listed twice");
            }
        }

        var policyIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in config.CachePolicies)
        {
            if (Admin.CacheEndpoints.Validate(c.ToPolicy(DateTimeOffset.UnixEpoch)) is { } invalid)
            {
                throw new ArgumentException($"cache policy {c.Id}: {invalid.Message}");
            }

            if (!policyIds.Add(Required(c.Id, "cache policy id")))
            {
                throw new ArgumentException($"cache policy {c.Id}: listed twice");
            }
        }
    }

    private static string Required(string value, string what) => string.IsNullOrWhiteSpace(value) ? throw new ArgumentException(what + " is required") : value;

    private sealed record Managed(HashSet<string> Providers, HashSet<string> Prices, HashSet<string> Plans, HashSet<string> Budgets, HashSet<string> QuotaRules, HashSet<string> Limits, HashSet<string> Keys, HashSet<string> Routes, HashSet<string> CachePolicies)
    {
        public HashSet<string>? For(string collection) => collection switch
        {
            "providers" => Providers,
            "prices" => Prices,
            "plans" => Plans,
            "budgets" => Budgets,
            "quota-rules" => QuotaRules,
            "limits" => Limits,
            "keys" => Keys,
            "routes" => Routes,
            "cache-policies" => CachePolicies,
            _ => null,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded the configuration from {Path}")]
    private static partial void LogReloaded(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "The configuration in {Path} was not applied: {Reason}; the running configuration stays")]
    private static partial void LogReloadFailed(ILogger logger, string path, string reason);
}

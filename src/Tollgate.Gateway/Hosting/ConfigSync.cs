using StackExchange.Redis;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Hosting;

/// <summary>
/// Keeps replicas' in-memory configuration (keys, providers, prices, quota rules, budgets, limits, plans, routes) in step: every
/// admin change is announced on a Redis channel before its response returns (PUBLISH returns once Redis has handed the
/// message to every subscriber's connection); a replica that hears it marks its copy stale, and its next request re-reads
/// the database before it is served — so a revocation or an edit made through one replica applies on the others at
/// their next request. Without Redis there is one process and nothing to announce.
/// </summary>
internal sealed partial class ConfigSync(IServiceProvider services, GatewaySettings settings, ILogger<ConfigSync> log) : IHostedService, IDisposable
{
    private readonly string _self = Guid.NewGuid().ToString("N");
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private long _announced;
    private long _loaded;
    private ITimer? _safetyNet;
    private RedisChannel Channel => RedisChannel.Literal(settings.RedisPrefix + "config-changed");

    private IConnectionMultiplexer? Redis => services.GetService<IConnectionMultiplexer>();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Redis is not { } redis)
        {
            return Task.CompletedTask;
        }

        // A safety net for announcements lost while Redis was unreachable: re-read every 30 seconds anyway.
        _safetyNet = TimeProvider.System.CreateTimer(_ => Interlocked.Increment(ref _announced), null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

        // Not awaited: Redis may be down at start; the subscription is registered now and made when Redis connects.
        _ = redis.GetSubscriber().SubscribeAsync(Channel, (_, from) =>
        {
            if (from != _self)
            {
                Interlocked.Increment(ref _announced);
            }
        }).ContinueWith(t => LogSyncUnavailable(log, t.Exception!.GetBaseException().Message), cancellationToken, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _safetyNet?.Dispose();
        _reloading.Dispose();
    }

    /// <summary>Tells the other replicas that the configuration in the database changed.</summary>
    public async Task PublishAsync()
    {
        if (Redis is not { } redis)
        {
            return;
        }

        if (!redis.IsConnected)
        {
            LogSyncUnavailable(log, "Redis is not connected");
            return;
        }

        try
        {
            await redis.GetSubscriber().PublishAsync(Channel, _self);
        }
        catch (RedisException e)
        {
            LogSyncUnavailable(log, e.Message);
        }
    }

    /// <summary>
    /// Called first by every request: two reads, unless another replica changed the configuration; then the request
    /// (and every one arriving meanwhile) waits for the re-read.
    /// </summary>
    public ValueTask EnsureFreshAsync() =>
        Volatile.Read(ref _loaded) == Volatile.Read(ref _announced) ? ValueTask.CompletedTask : new ValueTask(ReloadAsync());

    private async Task ReloadAsync()
    {
        await _reloading.WaitAsync();
        try
        {
            var target = Volatile.Read(ref _announced);
            if (Volatile.Read(ref _loaded) != target)
            {
                Reload();
                Volatile.Write(ref _loaded, target); // a change announced while re-reading leaves it stale again
            }
        }
        finally
        {
            _reloading.Release();
        }
    }

    private void Reload()
    {
        try
        {
            services.GetRequiredService<KeyService>().Reload();
            services.GetRequiredService<ProviderRegistry>().Load();
            services.GetRequiredService<PriceCatalog>().Load();
            services.GetRequiredService<GovernanceStore>().Load();
            services.GetRequiredService<Routing.RouteTable>().Load();
            services.GetRequiredService<Caching.CachePolicyTable>().Load();
            LogReloaded(log);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or System.Security.Cryptography.CryptographicException or FormatException or System.Text.Json.JsonException)
        {
            LogReloadFailed(log, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Re-reading the configuration after a change on another replica failed")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Configuration changes cannot be announced to other replicas: {Reason}")]
    private static partial void LogSyncUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Configuration re-read after a change on another replica")]
    private static partial void LogReloaded(ILogger logger);
}

using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Notices that the counter store lost its data (a flushed or replaced Redis) and rebuilds the current periods'
/// counters from the ledger. A sentinel counter, set after every rebuild, is what goes missing when the store is emptied.
/// </summary>
internal sealed partial class CounterRecovery(ICounterStore counters, CounterRebuilder rebuilder, KeyService keys, GatewaySettings settings, TimeProvider time, ILogger<CounterRecovery> log)
    : BackgroundService
{
    private const string Sentinel = "sentinel";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Redis is null)
        {
            return; // in-process counters cannot be flushed behind our back
        }

        using var timer = new PeriodicTimer(settings.CounterCheckInterval, time);
        try
        {
            do
            {
                await CheckAsync();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CheckAsync()
    {
        try
        {
            var now = time.GetUtcNow();
            if (await counters.GetAsync(Sentinel, now) == 1)
            {
                return;
            }

            await rebuilder.RebuildAsync([.. keys.List()]);
            await counters.InitializeAsync(Sentinel, 1, DateTimeOffset.MaxValue, now);
            LogRebuilt(log);
        }
        catch (CounterStoreUnavailableException)
        {
            // Checked again at the next tick.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The counter store had lost its counters; rebuilt the current periods from the ledger")]
    private static partial void LogRebuilt(ILogger logger);
}

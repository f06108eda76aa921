using System.Globalization;
using StackExchange.Redis;
using Tollgate.Gateway.Hosting;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Shares reservation factors between replicas through one Redis hash (<c>{prefix}calibration</c>, a field per model and
/// replica): every two seconds each replica writes its own factors and takes the highest of the others', so a replica
/// that has not served a model yet reserves with what the others learned instead of the margin. Never on the request path;
/// while Redis is unreachable each replica keeps its own factors.
/// </summary>
internal sealed partial class CalibrationSync(IConnectionMultiplexer redis, InputCalibration calibration, GatewaySettings settings, ILogger<CalibrationSync> log) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>A replica's entry older than this is ignored and removed (the replica stopped).</summary>
    private static readonly TimeSpan Stale = TimeSpan.FromMinutes(10);

    private readonly string _self = Guid.NewGuid().ToString("N");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await SyncAsync();
            }
            catch (Exception e) when (e is RedisException or CounterStoreUnavailableException or ObjectDisposedException)
            {
                LogSyncFailed(log, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    internal async Task SyncAsync()
    {
        if (!redis.IsConnected)
        {
            return;
        }

        var db = redis.GetDatabase();
        var key = (RedisKey)(settings.RedisPrefix + "calibration");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var mine = calibration.LocalFactors().Select(f => new HashEntry(f.Model + "\n" + _self, f.Factor.ToString("R", CultureInfo.InvariantCulture) + "@" + now.ToString(CultureInfo.InvariantCulture))).ToArray();
        if (mine.Length > 0)
        {
            await db.HashSetAsync(key, mine);
        }

        var shared = new Dictionary<string, double>(StringComparer.Ordinal);
        var stale = new List<RedisValue>();
        foreach (var entry in await db.HashGetAllAsync(key))
        {
            var field = entry.Name.ToString();
            var value = entry.Value.ToString();
            var newline = field.LastIndexOf('\n');
            var at = value.IndexOf('@', StringComparison.Ordinal);
            if (newline <= 0 || at <= 0
                || !double.TryParse(value.AsSpan(0, at), NumberStyles.Float, CultureInfo.InvariantCulture, out var factor)
                || !long.TryParse(value.AsSpan(at + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var written))
            {
                continue;
            }

            if (now - written > Stale.TotalMilliseconds)
            {
                stale.Add(entry.Name);
            }
            else if (field.AsSpan(newline + 1).SequenceEqual(_self) is false)
            {
                var model = field[..newline];
                shared[model] = Math.Max(factor, shared.GetValueOrDefault(model));
            }
        }

        foreach (var (model, factor) in shared)
        {
            calibration.Merge(model, factor);
        }

        if (stale.Count > 0)
        {
            await db.HashDeleteAsync(key, [.. stale]);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reservation factors not shared this round: {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, string reason);
}

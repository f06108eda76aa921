using System.Data.Common;
using System.Globalization;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary>
/// <c>TOLLGATE_LEDGER_RETENTION_DAYS</c>: at start and every hour, deletes the raw usage records older than that many
/// days (whole UTC hours) while the roll-ups keep their sums, so reports of that time read the roll-ups alone and a
/// range edge there falls on an hour (the hour counts when it starts in the range). What needs raw records, grouping or
/// filtering by session, the FOCUS export and Responses follow-ups, sees only what is kept.
/// </summary>
internal sealed partial class LedgerRetention(Database db, GatewaySettings settings, TimeProvider time, ILogger<LedgerRetention> log) : BackgroundService
{
    private const long Day = 86_400_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.LedgerRetentionDays is not { } days)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        try
        {
            do
            {
                try
                {
                    var deleted = await PruneAsync(stoppingToken);
                    LogPruned(log, deleted, days);
                }
                catch (DbException e)
                {
                    LogPruneFailed(log, e.Message); // the next pass deletes what this one left
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// One pass; returns the records deleted. The cut-off is recorded first (only ever moved forward, whichever replica
    /// prunes), so no report reads raw records it is about to lose; then a day of records goes per transaction, which
    /// keeps the ledger writer's waits short.
    /// </summary>
    public async Task<long> PruneAsync(CancellationToken cancel)
    {
        var hour = UsageRollup.Hourly.Unit;
        var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - (settings.LedgerRetentionDays!.Value * Day);
        cutoff -= cutoff % hour;
        await using var connection = await db.OpenAsync(cancel);
        await using (var mark = connection.CreateCommand())
        {
            mark.CommandText = "INSERT INTO settings (name, value) VALUES (@name, @value) ON CONFLICT (name) DO UPDATE SET value = excluded.value " +
                "WHERE CAST(settings.value AS BIGINT) < CAST(excluded.value AS BIGINT)";
            Database.AddParameters(mark, ("@name", UsageQuery.PrunedBeforeSetting), ("@value", cutoff.ToString(CultureInfo.InvariantCulture)));
            await mark.ExecuteNonQueryAsync(cancel);
        }

        long deleted = 0;
        while (true)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT MIN(ts) FROM usage";
            var oldest = await command.ExecuteScalarAsync(cancel) is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : cutoff;
            if (oldest >= cutoff)
            {
                return deleted;
            }

            command.CommandText = "DELETE FROM usage WHERE ts < @before";
            Database.AddParameters(command, ("@before", Math.Min(cutoff, oldest - (oldest % hour) + Day)));
            deleted += await command.ExecuteNonQueryAsync(cancel);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger retention: {Count} raw usage records older than {Days} days deleted; roll-ups kept")]
    private static partial void LogPruned(ILogger logger, long count, int days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger retention pass failed: {Reason}")]
    private static partial void LogPruneFailed(ILogger logger, string reason);
}

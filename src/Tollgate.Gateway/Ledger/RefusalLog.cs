using System.Collections.Concurrent;
using System.Globalization;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary>
/// Requests the gateway refused itself (bad key, policy, governance, bad input: the codes of <c>tollgate.rejections</c>)
/// counted per UTC hour and error code. A refused request reaches no provider and leaves no usage record, so the
/// overview's "refusals by reason" needs these counts of their own. Counting is an in-memory increment on the refusal
/// path; a background loop adds the counts to the shared <c>refusals</c> table every two seconds and at shutdown, so
/// every replica's refusals add up.
/// </summary>
internal sealed partial class RefusalLog(Database db, TimeProvider time, ILogger<RefusalLog> log) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly ConcurrentDictionary<(long Hour, string Code), StrongBox> _pending = new();

    public void Count(string code)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var box = _pending.GetOrAdd((now - (now % 3_600_000), code), static _ => new StrongBox());
        Interlocked.Increment(ref box.Value);
    }

    /// <summary>Refusals per code between two instants (whole UTC hours: an hour counts when it starts in the range).</summary>
    public async Task<IReadOnlyList<(string Code, long Requests)>> TotalsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancel)
    {
        await FlushAsync(cancel);
        await using var connection = await db.OpenAsync(cancel);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT code, SUM(count) FROM refusals WHERE hour >= @from AND hour < @to GROUP BY code ORDER BY SUM(count) DESC, code";
        Database.AddParameters(command, ("@from", from.ToUnixTimeMilliseconds()), ("@to", to.ToUnixTimeMilliseconds()));
        await using var r = await command.ExecuteReaderAsync(cancel);
        var totals = new List<(string, long)>();
        while (await r.ReadAsync(cancel))
        {
            totals.Add((r.GetString(0), Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture)));
        }

        return totals;
    }

    /// <summary>Adds what was counted so far to the table.</summary>
    public async Task FlushAsync(CancellationToken cancel)
    {
        await _flushing.WaitAsync(cancel);
        try
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            System.Data.Common.DbConnection? connection = null;
            try
            {
                foreach (var (key, box) in _pending)
                {
                    // Taken out atomically: a refusal counted meanwhile stays for the next flush.
                    var count = Interlocked.Exchange(ref box.Value, 0);
                    if (count == 0)
                    {
                        // Past hours no longer count refusals; forget their boxes.
                        if (key.Hour < now - 7_200_000)
                        {
                            _pending.TryRemove(key, out _);
                        }

                        continue;
                    }

                    try
                    {
                        connection ??= await db.OpenAsync(cancel);
                        await using var command = connection.CreateCommand();
                        command.CommandText = "INSERT INTO refusals (hour, code, count) VALUES (@hour, @code, @count) ON CONFLICT (hour, code) DO UPDATE SET count = refusals.count + excluded.count";
                        Database.AddParameters(command, ("@hour", key.Hour), ("@code", key.Code), ("@count", count));
                        await command.ExecuteNonQueryAsync(cancel);
                    }
                    catch
                    {
                        Interlocked.Add(ref box.Value, count); // not written: counted again next time
                        throw;
                    }
                }
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TryFlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the last counts are written below.
        }

        await TryFlushAsync(CancellationToken.None);
    }

    private async Task TryFlushAsync(CancellationToken cancel)
    {
        try
        {
            await FlushAsync(cancel);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or IOException)
        {
            // The database is unreachable: these counts are lost (they are statistics, not money); the next ones are not.
            LogFlushFailed(log, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refusal counts not written: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, string reason);

    /// <summary>A counter shared by the threads that refuse at once.</summary>
    private sealed class StrongBox
    {
        public long Value;
    }
}

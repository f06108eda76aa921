using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary>
/// The proxy hands usage records to a bounded channel and moves on; this background writer drains it in
/// batches, one SQLite transaction per batch. On shutdown it drains the channel completely before returning.
/// When the channel is full the proxy awaits a free slot (back-pressure) instead of dropping a record.
/// </summary>
public sealed partial class LedgerWriter : BackgroundService
{
    private readonly Channel<UsageRecord> _channel;
    private readonly SqliteDatabase _db;
    private readonly int _batchSize;
    private readonly ILogger<LedgerWriter> _log;
    private readonly Lock _waitersLock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private long _enqueued;
    private long _written;

    public LedgerWriter(SqliteDatabase db, GatewaySettings settings, ILogger<LedgerWriter> log)
    {
        _db = db;
        _log = log;
        _batchSize = settings.LedgerBatchSize;
        _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(settings.LedgerQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public long Written => Interlocked.Read(ref _written);

    public ValueTask EnqueueAsync(UsageRecord record)
    {
        Interlocked.Increment(ref _enqueued);
        if (_channel.Writer.TryWrite(record))
        {
            return ValueTask.CompletedTask;
        }

        LogBackPressure(_log);
        // CancellationToken.None: a record of a call that happened is written even if the caller has gone.
        return _channel.Writer.WriteAsync(record, CancellationToken.None);
    }

    /// <summary>Completes when every record enqueued before the call is in the database (read-your-writes for reports).</summary>
    public Task FlushAsync()
    {
        var target = Interlocked.Read(ref _enqueued);
        lock (_waitersLock)
        {
            if (Interlocked.Read(ref _written) >= target)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done));
            return done.Task;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<UsageRecord>(_batchSize);
        using var connection = _db.Open();
        using var insert = Prepare(connection);
        var reader = _channel.Reader;
        // Not stoppingToken: on shutdown the channel is completed and drained, so nothing already accepted is lost.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < _batchSize && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await WriteWithRetryAsync(connection, insert, batch);
            batch.Clear();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        // Drain whatever the server's in-flight requests enqueued before it stopped; ignore the host's deadline.
        await base.StopAsync(CancellationToken.None);
        LogDrained(_log, Written);
    }

    private async Task WriteWithRetryAsync(SqliteConnection connection, SqliteCommand insert, List<UsageRecord> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Write(connection, insert, batch);
                break;
            }
            catch (SqliteException e)
            {
                LogWriteFailed(_log, e, batch.Count, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 50 * attempt)));
            }
        }

        var written = Interlocked.Add(ref _written, batch.Count);
        lock (_waitersLock)
        {
            _waiters.RemoveAll(w =>
            {
                if (w.Target > written)
                {
                    return false;
                }

                w.Done.TrySetResult();
                return true;
            });
        }
    }

    private static void Write(SqliteConnection connection, SqliteCommand insert, List<UsageRecord> batch)
    {
        using var transaction = connection.BeginTransaction();
        insert.Transaction = transaction;
        var p = insert.Parameters;
        foreach (var r in batch)
        {
            var a = r.Attribution;
            p[0].Value = r.Id;
            p[1].Value = r.Timestamp.ToUnixTimeMilliseconds();
            p[2].Value = (object?)r.KeyId ?? DBNull.Value;
            p[3].Value = (object?)a.User ?? DBNull.Value;
            p[4].Value = (object?)a.Team ?? DBNull.Value;
            p[5].Value = (object?)a.Project ?? DBNull.Value;
            p[6].Value = (object?)a.CostCenter ?? DBNull.Value;
            p[7].Value = (object?)a.Customer ?? DBNull.Value;
            p[8].Value = (object?)a.Feature ?? DBNull.Value;
            p[9].Value = (object?)a.Environment ?? DBNull.Value;
            p[10].Value = (object?)a.Agent ?? DBNull.Value;
            p[11].Value = (object?)a.Session ?? DBNull.Value;
            p[12].Value = r.Operation;
            p[13].Value = r.Provider;
            p[14].Value = r.RequestedModel;
            p[15].Value = (object?)r.ServedModel ?? DBNull.Value;
            p[16].Value = r.Stream ? 1 : 0;
            p[17].Value = r.InputTokens;
            p[18].Value = r.CachedTokens;
            p[19].Value = r.CacheWriteTokens;
            p[20].Value = r.OutputTokens;
            p[21].Value = r.ReasoningTokens;
            p[22].Value = Money.ToE10(r.Cost);
            p[23].Value = r.Currency;
            p[24].Value = r.LatencyMs;
            p[25].Value = (object?)r.TimeToFirstTokenMs ?? DBNull.Value;
            p[26].Value = r.Status;
            p[27].Value = (object?)r.ErrorClass ?? DBNull.Value;
            p[28].Value = r.Estimated ? 1 : 0;
            p[29].Value = (object?)r.ResponseId ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static SqliteCommand Prepare(SqliteConnection connection)
    {
        string[] columns =
        [
            "id", "ts", "key_id", "user", "team", "project", "cost_center", "customer", "feature", "environment", "agent", "session",
            "operation", "provider", "requested_model", "served_model", "stream", "input_tokens", "cached_tokens", "cache_write_tokens",
            "output_tokens", "reasoning_tokens", "cost_e10", "currency", "latency_ms", "ttft_ms", "status", "error_class", "estimated", "response_id",
        ];
        var command = connection.CreateCommand();
        // OR IGNORE: a record replayed with the same id is not counted twice.
        command.CommandText = $"INSERT OR IGNORE INTO usage ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
        for (var i = 0; i < columns.Length; i++)
        {
            command.Parameters.Add(new SqliteParameter("$p" + i, null));
        }

        command.Prepare();
        return command;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger queue is full; the proxy is waiting for the writer")]
    private static partial void LogBackPressure(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} usage records failed (attempt {Attempt}); retrying")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger drained: {Written} usage records written since start")]
    private static partial void LogDrained(ILogger logger, long written);
}

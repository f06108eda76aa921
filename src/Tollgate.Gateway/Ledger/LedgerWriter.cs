using System.Threading.Channels;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Ledger;

/// <summary>
/// The proxy hands usage records to a bounded channel and moves on; this background writer drains it in
/// batches, one transaction per batch, which also adds the batch to the hourly and daily roll-ups the reports read
/// (<see cref="UsageRollup"/>). On shutdown it drains the channel completely before returning.
/// When the channel is full the proxy awaits a free slot (back-pressure) instead of dropping a record.
/// </summary>
internal sealed partial class LedgerWriter : BackgroundService
{
    private readonly Channel<UsageRecord> _channel;
    private readonly Database _db;
    private readonly int _batchSize;
    private readonly ILogger<LedgerWriter> _log;
    private readonly Lock _waitersLock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private long _enqueued;
    private long _written;

    private readonly LedgerSpool _spool;

    public LedgerWriter(Database db, GatewaySettings settings, ILogger<LedgerWriter> log)
    {
        _db = db;
        _spool = new LedgerSpool(Path.Combine(settings.DataDir, "ledger-spool.jsonl"));
        _log = log;
        _batchSize = settings.LedgerBatchSize;
        _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(settings.LedgerQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public long Written => Interlocked.Read(ref _written);

    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(5);

    private bool FlushWanted
    {
        get
        {
            lock (_waitersLock)
            {
                return _waiters.Count > 0;
            }
        }
    }

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
        using var sink = _db.OpenLedgerSink();
        var reader = _channel.Reader;
        // Not stoppingToken: on shutdown the channel is completed and drained, so nothing already accepted is lost.
        while (await WaitOrReplayAsync(reader, sink))
        {
            // At low rates every record would be a transaction (and its WAL writes and locks) of its own; a short
            // linger lets a batch form. A report waiting for the ledger does not wait for it.
            if (reader.Count < _batchSize && !FlushWanted)
            {
                await Task.Delay(Linger, CancellationToken.None);
            }

            while (batch.Count < _batchSize && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await WriteWithRetryAsync(sink, batch);
            batch.Clear();
        }

        TryReplay(sink);
    }

    /// <summary>Waits for records; while the spool holds some, tries every 2 seconds to move them into the database.</summary>
    private async Task<bool> WaitOrReplayAsync(ChannelReader<UsageRecord> reader, ILedgerSink sink)
    {
        while (true)
        {
            TryReplay(sink);
            if (!_spool.HasRecords)
            {
                return await reader.WaitToReadAsync(CancellationToken.None);
            }

            var ready = reader.WaitToReadAsync(CancellationToken.None).AsTask();
            if (await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(2))) == ready)
            {
                return await ready;
            }
        }
    }

    private void TryReplay(ILedgerSink sink)
    {
        if (!_spool.HasRecords)
        {
            return;
        }

        try
        {
            var replayed = _spool.Replay(sink.Write, _batchSize);
            LogReplayed(_log, replayed);
        }
        catch (System.Data.Common.DbException)
        {
            // Still down; the records stay in the spool.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        // Drain whatever the server's in-flight requests enqueued before it stopped; ignore the host's deadline.
        await base.StopAsync(CancellationToken.None);
        LogDrained(_log, Written);
    }

    /// <summary>Writes a batch, retrying briefly; if the database stays unreachable the batch goes to the spool file.</summary>
    private async Task WriteWithRetryAsync(ILedgerSink sink, List<UsageRecord> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (_spool.HasRecords)
                {
                    // Keep the order: what waits in the spool goes first.
                    _spool.Append(batch);
                }
                else
                {
                    sink.Write(batch);
                }

                break;
            }
            catch (System.Data.Common.DbException e)
            {
                LogWriteFailed(_log, e, batch.Count, attempt);
                if (attempt >= 3)
                {
                    _spool.Append(batch);
                    LogSpooled(_log, batch.Count, _spool.Path);
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger queue is full; the proxy is waiting for the writer")]
    private static partial void LogBackPressure(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} usage records failed (attempt {Attempt})")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unreachable: {Count} usage records spooled to {Path}")]
    private static partial void LogSpooled(ILogger logger, int count, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed {Count} spooled usage records into the database")]
    private static partial void LogReplayed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger drained: {Written} usage records written since start")]
    private static partial void LogDrained(ILogger logger, long written);
}

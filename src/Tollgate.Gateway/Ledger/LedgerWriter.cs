using System.Threading.Channels;
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
    private readonly Database _db;
    private readonly int _batchSize;
    private readonly ILogger<LedgerWriter> _log;
    private readonly Lock _waitersLock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private long _enqueued;
    private long _written;

    public LedgerWriter(Database db, GatewaySettings settings, ILogger<LedgerWriter> log)
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
        using var sink = _db.OpenLedgerSink();
        var reader = _channel.Reader;
        // Not stoppingToken: on shutdown the channel is completed and drained, so nothing already accepted is lost.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < _batchSize && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await WriteWithRetryAsync(sink, batch);
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

    private async Task WriteWithRetryAsync(ILedgerSink sink, List<UsageRecord> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                sink.Write(batch);
                break;
            }
            catch (System.Data.Common.DbException e)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger queue is full; the proxy is waiting for the writer")]
    private static partial void LogBackPressure(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} usage records failed (attempt {Attempt}); retrying")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger drained: {Written} usage records written since start")]
    private static partial void LogDrained(ILogger logger, long written);
}

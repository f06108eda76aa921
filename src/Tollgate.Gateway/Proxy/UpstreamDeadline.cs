using System.Diagnostics;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// How long one exchange with a provider may go on: at most <c>TOLLGATE_UPSTREAM_IDLE_TIMEOUT_SECONDS</c> of silence
/// between reads (every chunk re-arms it, so a healthy stream may run for many minutes), and optionally an overall cap
/// (<c>TOLLGATE_UPSTREAM_TIMEOUT_SECONDS</c>; 600 s by default for non-streaming calls, none for streams unless set).
/// Linked to the client's abort, so <see cref="Token"/> ends the exchange for either reason.
/// </summary>
internal sealed class UpstreamDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _client;
    private readonly TimeSpan _idle;
    private readonly long _capAt;

    /// <summary>Real time throughout (<see cref="Stopwatch"/>), as the cancellation timer runs on it.</summary>
    public UpstreamDeadline(TimeSpan idle, TimeSpan? cap, CancellationToken client)
    {
        _client = client;
        _idle = idle;
        _capAt = cap is { } c ? Stopwatch.GetTimestamp() + (long)(c.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        _source = CancellationTokenSource.CreateLinkedTokenSource(client);
        Touch();
    }

    public CancellationToken Token => _source.Token;

    /// <summary>True when the provider, not the client, ran out of time.</summary>
    public bool TimedOut => _source.IsCancellationRequested && !_client.IsCancellationRequested;

    public bool ClientAborted => _client.IsCancellationRequested;

    /// <summary>Bytes arrived: the provider may be silent for another idle period (within the overall cap).</summary>
    public void Touch()
    {
        var delay = _idle;
        if (_capAt != long.MaxValue)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _capAt);
            delay = left < delay ? left : delay;
        }

        if (!_source.IsCancellationRequested)
        {
            _source.CancelAfter(delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
        }
    }

    public void Dispose() => _source.Dispose();
}

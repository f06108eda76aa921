using System.Buffers;
using System.IO.Pipelines;
using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// Relays a server-sent-event stream event by event, flushing after every read so the client sees each event as
/// soon as the provider sent it. The meter sees each event's data on the way through; nothing is buffered beyond
/// one incomplete event, and that one at most <c>TOLLGATE_MAX_SSE_EVENT_BYTES</c>.
/// <para>
/// It runs in two steps so the pipeline can settle in between: <see cref="RelayUntilUsageAsync"/> returns as soon as the
/// meter has the provider's final usage, with the events that carried it written but not yet flushed;
/// <see cref="FinishAsync"/> then lets the client have them and the rest. Failures surface as exceptions.
/// </para>
/// <para>
/// With a <paramref name="translator"/> (a routed call whose provider speaks another API than the client) the meter still
/// reads the provider's events, and the client gets what the translator makes of them instead of the bytes.
/// </para>
/// </summary>
internal sealed class SseRelay(Stream upstream, PipeWriter client, UsageMeter meter, UpstreamDeadline deadline, int maxEventBytes, Protocols.Translation.StreamTranslator? translator = null, ArrayBufferWriter<byte>? recorder = null) : IDisposable
{
    private const int BufferSize = 16 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;
    private bool _ended;

    /// <summary>Relays until the meter has final usage or the provider ends the stream; <paramref name="onFirstByte"/> runs at the first bytes.</summary>
    public async Task RelayUntilUsageAsync(Action onFirstByte)
    {
        var first = true;
        while (await ReadAsync())
        {
            if (first)
            {
                first = false;
                onFirstByte();
            }

            ForwardEvents();
            if (meter.Complete)
            {
                return; // written, not flushed: the call is settled before the client can have its end
            }

            await FlushAsync();
        }
    }

    /// <summary>Flushes what is pending and relays the rest of the stream, a last event without its blank line included.</summary>
    public async Task FinishAsync()
    {
        await FlushAsync();
        while (await ReadAsync())
        {
            ForwardEvents();
            await FlushAsync();
        }

        if (_end > _start)
        {
            // A last event without its blank line: meter it and pass it on as it came.
            Forward(_buffer.AsSpan(_start, _end - _start), _end - _start);
            _start = _end;
            await FlushAsync();
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private async Task<bool> ReadAsync()
    {
        if (_ended)
        {
            return false;
        }

        if (_end == _buffer.Length)
        {
            MakeRoom();
        }

        var read = await upstream.ReadAsync(_buffer.AsMemory(_end), deadline.Token);
        if (read == 0)
        {
            _ended = true;
            return false;
        }

        deadline.Touch();
        _end += read;
        return true;
    }

    private void ForwardEvents()
    {
        while (NextEvent(_buffer.AsSpan(_start, _end - _start), out var length, out var separator))
        {
            Forward(_buffer.AsSpan(_start, length + separator), length);
            _start += length + separator;
        }

        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    private async Task FlushAsync()
    {
        var flush = await client.FlushAsync(deadline.Token);
        if (flush.IsCanceled || flush.IsCompleted)
        {
            throw new ClientDisconnectedException();
        }
    }

    /// <summary>
    /// Moves the incomplete event to the front, or grows the buffer when the event fills it, up to the largest event
    /// accepted: one endless event from a provider must not grow memory without limit.
    /// </summary>
    private void MakeRoom()
    {
        var pending = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        else
        {
            if (pending >= maxEventBytes)
            {
                throw new SseEventTooLargeException(maxEventBytes);
            }

            var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)_buffer.Length * 2, maxEventBytes + 1L));
            _buffer.AsSpan(0, pending).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        _start = 0;
        _end = pending;
    }

    /// <summary>Finds the blank line that ends the first event: <c>\n\n</c> or <c>\r\n\r\n</c> (and mixtures).</summary>
    internal static bool NextEvent(ReadOnlySpan<byte> data, out int length, out int separator)
    {
        var offset = 0;
        while (true)
        {
            var newline = data[offset..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                length = separator = 0;
                return false;
            }

            var at = offset + newline;
            var next = at + 1;
            if (next < data.Length && data[next] == '\n')
            {
                length = at;
                separator = 2;
                return true;
            }

            if (next + 1 < data.Length && data[next] == '\r' && data[next + 1] == '\n')
            {
                length = at;
                separator = 3;
                return true;
            }

            offset = next;
        }
    }

    private void Forward(ReadOnlySpan<byte> evt, int length)
    {
        var action = SseAction.Forward;
        var data = DataOf(evt[..length]);
        if (!data.IsEmpty)
        {
            action = meter.OnEvent(data);
            if (translator is not null && recorder is not null)
            {
                var before = recorder.WrittenCount;
                translator.OnEvent(data, recorder);
                client.Write(recorder.WrittenSpan[before..]);
            }
            else
            {
                translator?.OnEvent(data, client);
            }
        }

        if (translator is not null)
        {
            return;
        }

        switch (action)
        {
            case SseAction.Drop:
                return;
            case SseAction.ForwardWithoutNullUsage when NullUsage(evt, out var from, out var to):
                Write(evt[..from]);
                Write(evt[to..]);
                return;
            default:
                Write(evt);
                return;
        }
    }

    /// <summary>Passes bytes on to the client, and to the recorder when the answer is to be cached.</summary>
    private void Write(ReadOnlySpan<byte> bytes)
    {
        client.Write(bytes);
        recorder?.Write(bytes);
    }

    /// <summary>The payload of the event's <c>data:</c> line (these APIs send one per event).</summary>
    internal static ReadOnlySpan<byte> DataOf(ReadOnlySpan<byte> evt)
    {
        while (!evt.IsEmpty)
        {
            var newline = evt.IndexOf((byte)'\n');
            var line = newline < 0 ? evt : evt[..newline];
            evt = newline < 0 ? default : evt[(newline + 1)..];
            if (line.StartsWith("data:"u8))
            {
                line = line[5..];
                if (!line.IsEmpty && line[0] == ' ')
                {
                    line = line[1..];
                }

                return line.TrimEnd((byte)'\r');
            }
        }

        return default;
    }

    /// <summary>Locates <c>,"usage":null</c> (or <c>"usage":null,</c>) in a compact or spaced JSON event.</summary>
    internal static bool NullUsage(ReadOnlySpan<byte> evt, out int from, out int to)
    {
        from = to = 0;
        var at = evt.LastIndexOf("\"usage\""u8);
        if (at < 0)
        {
            return false;
        }

        var i = at + 7;
        while (i < evt.Length && evt[i] == ' ')
        {
            i++;
        }

        if (i >= evt.Length || evt[i] != ':')
        {
            return false;
        }

        i++;
        while (i < evt.Length && evt[i] == ' ')
        {
            i++;
        }

        if (!evt[i..].StartsWith("null"u8))
        {
            return false;
        }

        to = i + 4;
        from = at;
        var before = at - 1;
        while (before >= 0 && evt[before] == ' ')
        {
            before--;
        }

        if (before >= 0 && evt[before] == ',')
        {
            from = before;
            return true;
        }

        // First member: take the comma after it instead.
        while (to < evt.Length && evt[to] == ' ')
        {
            to++;
        }

        if (to < evt.Length && evt[to] == ',')
        {
            to++;
        }

        return true;
    }
}

/// <summary>A provider sent one SSE event larger than the gateway accepts.</summary>
internal sealed class SseEventTooLargeException : IOException
{
    public SseEventTooLargeException()
        : base("The provider sent an SSE event larger than the gateway accepts.")
    {
    }

    public SseEventTooLargeException(int limit)
        : base($"The provider sent an SSE event larger than {limit} bytes.")
    {
    }

    public SseEventTooLargeException(string message)
        : base(message)
    {
    }

    public SseEventTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The client closed its connection while the gateway was still relaying to it.</summary>
internal sealed class ClientDisconnectedException : IOException
{
    public ClientDisconnectedException()
        : base("The client stopped reading the response.")
    {
    }

    public ClientDisconnectedException(string message)
        : base(message)
    {
    }

    public ClientDisconnectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

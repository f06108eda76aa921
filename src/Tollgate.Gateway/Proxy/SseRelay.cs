using System.Buffers;
using System.IO.Pipelines;
using Tollgate.Gateway.Metering;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// Relays a server-sent-event stream event by event, flushing after every read so the client sees each event as
/// soon as the provider sent it. The meter sees each event's data on the way through; nothing is buffered beyond
/// one incomplete event.
/// </summary>
public static class SseRelay
{
    private const int BufferSize = 16 * 1024;

    /// <summary>
    /// Copies until the provider ends the stream. <paramref name="onUsage"/> runs once, as soon as the meter has the
    /// provider's final usage and before the events carrying it reach the client. Cancellation and I/O failures surface
    /// as exceptions to the pipeline.
    /// </summary>
    public static async Task RelayAsync(Stream upstream, PipeWriter client, UsageMeter meter, Action onFirstByte, Func<ValueTask> onUsage, CancellationToken cancellationToken)
    {
        var usageReported = false;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var start = 0;
        var end = 0;
        var first = true;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    buffer = MakeRoom(buffer, ref start, ref end);
                }

                var read = await upstream.ReadAsync(buffer.AsMemory(end), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                if (first)
                {
                    first = false;
                    onFirstByte();
                }

                end += read;
                while (NextEvent(buffer.AsSpan(start, end - start), out var length, out var separator))
                {
                    Forward(buffer.AsSpan(start, length + separator), length, meter, client);
                    start += length + separator;
                }

                if (start == end)
                {
                    start = end = 0;
                }

                if (meter.Complete && !usageReported)
                {
                    usageReported = true;
                    await onUsage();
                }

                var flush = await client.FlushAsync(cancellationToken);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    throw new ClientDisconnectedException();
                }
            }

            if (end > start)
            {
                // A last event without its blank line: meter it and pass it on as it came.
                Forward(buffer.AsSpan(start, end - start), end - start, meter, client);
                await client.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Moves the incomplete event to the front, or grows the buffer when the event fills it.</summary>
    private static byte[] MakeRoom(byte[] buffer, ref int start, ref int end)
    {
        var pending = end - start;
        if (start > 0)
        {
            buffer.AsSpan(start, pending).CopyTo(buffer);
        }
        else
        {
            var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
            buffer.AsSpan(0, pending).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = bigger;
        }

        start = 0;
        end = pending;
        return buffer;
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

    private static void Forward(ReadOnlySpan<byte> evt, int length, UsageMeter meter, PipeWriter client)
    {
        var action = SseAction.Forward;
        var data = DataOf(evt[..length]);
        if (!data.IsEmpty)
        {
            action = meter.OnEvent(data);
        }

        switch (action)
        {
            case SseAction.Drop:
                return;
            case SseAction.ForwardWithoutNullUsage when NullUsage(evt, out var from, out var to):
                client.Write(evt[..from]);
                client.Write(evt[to..]);
                return;
            default:
                client.Write(evt);
                return;
        }
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

/// <summary>The client closed its connection while the gateway was still relaying to it.</summary>
public sealed class ClientDisconnectedException : IOException
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

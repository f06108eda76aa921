using System.Net;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// A JSON request body that knows whether it was sent: the handler asks for it only once it holds a connection to the
/// provider, so an unsent body means the provider never saw the call (and cannot bill it).
/// </summary>
internal sealed class TrackedContent : HttpContent
{
    private readonly ReadOnlyMemory<byte> _body;
    private volatile bool _sent;

    public TrackedContent(ReadOnlyMemory<byte> body)
    {
        _body = body;
        Headers.TryAddWithoutValidation("Content-Type", "application/json");
    }

    public bool Sent => _sent;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _sent = true;
        return stream.WriteAsync(_body, cancellationToken).AsTask();
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _sent = true;
        stream.Write(_body.Span);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }
}

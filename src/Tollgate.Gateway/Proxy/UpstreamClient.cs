using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Proxy;

/// <summary>One request to a provider: method, URI, the body to send (empty for none), and the client's headers to pass on.</summary>
internal readonly record struct UpstreamRequest(HttpMethod Method, Uri Uri, ReadOnlyMemory<byte> Body, Provider Provider, IHeaderDictionary ClientHeaders);

/// <summary>
/// Sends a request to a provider and returns what happened as a value, in the manner of YARP's <c>ForwarderError</c>:
/// the provider's status, headers and body, or a <see cref="UpstreamFailure"/>. It knows nothing of the client's
/// connection or API: nothing reaches the client until the pipeline decides to relay it, so a stage may retry, fall
/// back or answer otherwise.
/// </summary>
internal sealed class UpstreamClient(IHttpClientFactory httpClients)
{
    public const string Name = "upstream";

    public async Task<UpstreamResponse> SendAsync(UpstreamRequest request, UpstreamDeadline deadline)
    {
        var content = request.Body.IsEmpty ? null : new TrackedContent(request.Body);
        var message = new HttpRequestMessage(request.Method, request.Uri) { Content = content };
        UpstreamHeaders.CopyRequestHeaders(request.ClientHeaders, message, request.Provider);
        try
        {
            var response = await httpClients.CreateClient(Name).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            deadline.Touch();
            return new UpstreamResponse(message, response, UpstreamFailure.None, sent: true);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            var sent = content is null || content.Sent;
            return new UpstreamResponse(message, null, Classify(e, deadline, sent), sent);
        }
    }

    /// <summary>What a failure while exchanging with a provider (sending, or reading its answer) amounts to.</summary>
    public static UpstreamFailure Classify(Exception e, UpstreamDeadline deadline, bool sent) => e switch
    {
        // The client going away can surface as its abort token, a completed pipe, or an I/O error on our write.
        _ when deadline.ClientAborted => UpstreamFailure.ClientCancelled,
        ClientDisconnectedException or Microsoft.AspNetCore.Connections.ConnectionResetException => UpstreamFailure.ClientCancelled,
        SseEventTooLargeException => UpstreamFailure.EventTooLarge,
        OperationCanceledException when deadline.TimedOut => UpstreamFailure.Timeout,
        HttpRequestException when !sent => UpstreamFailure.Connect,
        _ => UpstreamFailure.Broken,
    };
}

/// <summary>Why an exchange with a provider did not complete (the closed set the pipeline decides on).</summary>
internal enum UpstreamFailure
{
    None,

    /// <summary>No connection: the request was never sent, so nothing can be billed.</summary>
    Connect,

    /// <summary>The provider was silent past the idle timeout, or the exchange passed its overall cap.</summary>
    Timeout,

    /// <summary>The connection broke, or the answer was cut or malformed.</summary>
    Broken,

    /// <summary>One SSE event passed <c>TOLLGATE_MAX_SSE_EVENT_BYTES</c>.</summary>
    EventTooLarge,

    /// <summary>The client went away.</summary>
    ClientCancelled,
}

/// <summary>What a provider answered (status, headers, a body or an event stream), or why it did not.</summary>
internal sealed class UpstreamResponse(HttpRequestMessage request, HttpResponseMessage? response, UpstreamFailure failure, bool sent) : IDisposable
{
    public UpstreamFailure Failure { get; } = failure;

    /// <summary>Whether the request reached the provider (which may then bill it).</summary>
    public bool Sent { get; } = sent;

    public HttpResponseMessage? Message { get; } = response;

    public int Status => Message is null ? 0 : (int)Message.StatusCode;

    public bool IsEventStream => Message?.Content.Headers.ContentType?.MediaType == "text/event-stream";

    /// <summary>Reads the whole body (answers and errors are small; streams go through <see cref="SseRelay"/>).</summary>
    public async Task<PooledBuffer> ReadBodyAsync(UpstreamDeadline deadline)
    {
        var length = Message!.Content.Headers.ContentLength;
        var stream = await Message.Content.ReadAsStreamAsync(deadline.Token);
        var buffer = new PooledBuffer((int)Math.Min(length ?? 16 * 1024, 64 * 1024 * 1024) + 1);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.GetMemory(16 * 1024), deadline.Token)) > 0)
            {
                buffer.Advance(read);
                deadline.Touch();
            }

            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Message?.Dispose();
        request.Dispose();
    }
}

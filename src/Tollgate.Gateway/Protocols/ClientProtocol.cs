using System.Globalization;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols;

/// <summary>
/// The client-facing half of an API: the path a client calls, how its body is checked, the shape of its errors (JSON
/// bodies and, on a stream already under way, error events), and its rate-limit headers. The provider-facing half is
/// <see cref="ProviderProtocol"/>; when both speak the same API the pipeline splices bytes between them.
/// </summary>
internal sealed class ClientProtocol
{
    public static readonly ClientProtocol ChatCompletions = new(WireApi.ChatCompletions, ErrorShape.OpenAi, "chat", "/v1/chat/completions", RequiredField.Messages, StreamErrorStyle.OpenAiData);

    public static readonly ClientProtocol Embeddings = new(WireApi.Embeddings, ErrorShape.OpenAi, "embeddings", "/v1/embeddings", RequiredField.Input, StreamErrorStyle.OpenAiData);

    public static readonly ClientProtocol Messages = new(WireApi.Messages, ErrorShape.Anthropic, "chat", "/v1/messages", RequiredField.Messages, StreamErrorStyle.AnthropicEvent);

    public static readonly ClientProtocol Responses = new(WireApi.Responses, ErrorShape.OpenAi, "chat", "/v1/responses", RequiredField.None, StreamErrorStyle.ResponsesEvent);

    /// <summary>Responses API follow-ups (retrieve, delete, cancel, input items): relayed as they come.</summary>
    public static readonly ClientProtocol ResponsesFollowUp = new(WireApi.Responses, ErrorShape.OpenAi, "responses.follow_up", "/v1/responses/{id}", RequiredField.None, StreamErrorStyle.ResponsesEvent);

    private readonly RequiredField _required;
    private readonly StreamErrorStyle _streamErrors;

    private ClientProtocol(WireApi api, ErrorShape shape, string operation, string path, RequiredField required, StreamErrorStyle streamErrors)
    {
        Api = api;
        Shape = shape;
        Operation = operation;
        Path = path;
        _required = required;
        _streamErrors = streamErrors;
    }

    /// <summary>The API the client speaks.</summary>
    public WireApi Api { get; }

    public ErrorShape Shape { get; }

    /// <summary>OpenTelemetry GenAI operation name.</summary>
    public string Operation { get; }

    public string Path { get; }

    /// <summary>Null when the body has what this API needs; otherwise the client's mistake.</summary>
    public string? Validate(ReadOnlySpan<byte> body, out ParsedRequest request)
    {
        if (RequestParser.Parse(body, out request) is { } error)
        {
            return error;
        }

        return _required switch
        {
            RequiredField.Messages when !request.HasMessages => "'messages' is required.",
            RequiredField.Input when !request.HasInput => "'input' is required.",
            _ => null,
        };
    }

    /// <summary>The endpoint a client should use instead, when this provider does not speak this API.</summary>
    public static string AlternativeFor(ProviderKind kind) => kind == ProviderKind.Anthropic ? "/v1/messages" : "/v1/chat/completions or /v1/responses";

    /// <summary>
    /// The tightest RPM and TPM state in this API's header style: OpenAI's <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c>
    /// (reset as a duration such as <c>1.5s</c>), or Anthropic's <c>anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}</c> (an RFC 3339 time).
    /// </summary>
    public void WriteRateHeaders(HttpResponse response, RateLimitHeaders state, DateTimeOffset now)
    {
        WriteRate(response, "requests", state.Requests, now);
        WriteRate(response, "tokens", state.Tokens, now);
    }

    /// <summary>
    /// The error event that ends a stream already under way, in this API's stream format, so SDKs raise it as an error
    /// instead of seeing the stream just stop.
    /// </summary>
    public byte[] StreamErrorEvent(GatewayError error)
    {
        var json = ErrorWriter.Body(Shape, error);
        return _streamErrors switch
        {
            StreamErrorStyle.AnthropicEvent => [.. "event: error\ndata: "u8, .. json, .. "\n\n"u8],
            StreamErrorStyle.ResponsesEvent => [.. "event: error\ndata: "u8, .. ErrorWriter.ResponsesStreamError(error), .. "\n\n"u8],
            _ => [.. "data: "u8, .. json, .. "\n\n"u8],
        };
    }

    private void WriteRate(HttpResponse response, string kind, RateState? state, DateTimeOffset now)
    {
        if (state is not { } s)
        {
            return;
        }

        var h = response.Headers;
        if (Shape == ErrorShape.Anthropic)
        {
            h["anthropic-ratelimit-" + kind + "-limit"] = s.Limit.ToString(CultureInfo.InvariantCulture);
            h["anthropic-ratelimit-" + kind + "-remaining"] = s.Remaining.ToString(CultureInfo.InvariantCulture);
            h["anthropic-ratelimit-" + kind + "-reset"] = (now + s.Reset).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            return;
        }

        h["x-ratelimit-limit-" + kind] = s.Limit.ToString(CultureInfo.InvariantCulture);
        h["x-ratelimit-remaining-" + kind] = s.Remaining.ToString(CultureInfo.InvariantCulture);
        h["x-ratelimit-reset-" + kind] = Duration(s.Reset);
    }

    /// <summary>OpenAI's style: <c>20ms</c>, <c>1.5s</c>, <c>6m0s</c>.</summary>
    internal static string Duration(TimeSpan t) =>
        t < TimeSpan.FromSeconds(1) ? ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms"
        : t < TimeSpan.FromMinutes(1) ? Math.Round(t.TotalSeconds, 3).ToString(CultureInfo.InvariantCulture) + "s"
        : ((long)t.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m" + t.Seconds.ToString(CultureInfo.InvariantCulture) + "s";

    private enum RequiredField
    {
        None,
        Messages,
        Input,
    }

    private enum StreamErrorStyle
    {
        /// <summary>Chat Completions: a <c>data:</c> line holding the error object, as OpenAI sends it.</summary>
        OpenAiData,

        /// <summary>Anthropic Messages: <c>event: error</c> with the error body.</summary>
        AnthropicEvent,

        /// <summary>Responses: <c>event: error</c> with <c>{type, code, message, param}</c>.</summary>
        ResponsesEvent,
    }
}

using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Anthropic;
using Tollgate.Gateway.Protocols.OpenAi;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols;

/// <summary>
/// What differs between the proxied APIs: upstream endpoint, error shape, required fields, how usage is read.
/// Everything else (keys, routing, policy, forwarding, ledger) is the one pipeline in <see cref="ProxyPipeline"/>.
/// </summary>
public sealed class ProtocolAdapter
{
    public static readonly ProtocolAdapter ChatCompletions = new(WireApi.ChatCompletions, ErrorShape.OpenAi, "chat", "/v1/chat/completions", RequiredField.Messages, injected => new OpenAiMeter(injected));

    public static readonly ProtocolAdapter Embeddings = new(WireApi.Embeddings, ErrorShape.OpenAi, "embeddings", "/v1/embeddings", RequiredField.Input, injected => new OpenAiMeter(injected));

    public static readonly ProtocolAdapter Messages = new(WireApi.Messages, ErrorShape.Anthropic, "chat", "/v1/messages", RequiredField.Messages, _ => new AnthropicMeter());

    public static readonly ProtocolAdapter Responses = new(WireApi.Responses, ErrorShape.OpenAi, "chat", "/v1/responses", RequiredField.None, _ => new ResponsesMeter());

    /// <summary>Responses API follow-ups (retrieve, delete, cancel, input items): relayed as they come, metered as zero tokens.</summary>
    public static readonly ProtocolAdapter ResponsesFollowUp = new(WireApi.Responses, ErrorShape.OpenAi, "responses.follow_up", "/v1/responses/{id}", RequiredField.None, _ => new NoUsageMeter());

    private readonly Func<bool, UsageMeter> _meter;
    private readonly RequiredField _required;

    private ProtocolAdapter(WireApi api, ErrorShape shape, string operation, string path, RequiredField required, Func<bool, UsageMeter> meter)
    {
        Api = api;
        Shape = shape;
        Operation = operation;
        Path = path;
        _required = required;
        _meter = meter;
    }

    public WireApi Api { get; }

    public ErrorShape Shape { get; }

    /// <summary>OpenTelemetry GenAI operation name.</summary>
    public string Operation { get; }

    public string Path { get; }

    /// <summary>Whether the gateway must ask the provider for stream usage the client did not request (and hide it again).</summary>
    public bool InjectsStreamUsage(in ParsedRequest request) => Api == WireApi.ChatCompletions && request.Stream && !request.IncludeUsage;

    public UsageMeter CreateMeter(bool usageInjected) => _meter(usageInjected);

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

    private enum RequiredField
    {
        None,
        Messages,
        Input,
    }
}

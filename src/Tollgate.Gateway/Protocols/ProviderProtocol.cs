using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Anthropic;
using Tollgate.Gateway.Protocols.OpenAi;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Protocols;

/// <summary>
/// The provider-facing half of an API: which endpoint of a provider it calls and how usage is read from the answer
/// (the meter, which also reads each SSE event of a stream). Credentials and headers are <see cref="Proxy.UpstreamHeaders"/>'s.
/// </summary>
internal sealed class ProviderProtocol
{
    public static readonly ProviderProtocol ChatCompletions = new(WireApi.ChatCompletions, injected => new OpenAiMeter(injected));

    public static readonly ProviderProtocol Embeddings = new(WireApi.Embeddings, injected => new OpenAiMeter(injected));

    public static readonly ProviderProtocol Messages = new(WireApi.Messages, _ => new AnthropicMeter());

    public static readonly ProviderProtocol Responses = new(WireApi.Responses, _ => new ResponsesMeter());

    /// <summary>Responses API follow-ups: relayed as they come, metered as zero tokens.</summary>
    public static readonly ProviderProtocol ResponsesFollowUp = new(WireApi.Responses, _ => new NoUsageMeter());

    private readonly Func<bool, UsageMeter> _meter;

    private ProviderProtocol(WireApi api, Func<bool, UsageMeter> meter)
    {
        Api = api;
        _meter = meter;
    }

    /// <summary>The API the provider is spoken to in.</summary>
    public WireApi Api { get; }

    /// <summary>The provider-facing half that speaks the client's own API: the pass-through case, relayed byte for byte.</summary>
    public static ProviderProtocol SameAs(ClientProtocol client) => For(client.Api);

    /// <summary>The provider-facing half of an API.</summary>
    public static ProviderProtocol For(WireApi api) => api switch
    {
        WireApi.ChatCompletions => ChatCompletions,
        WireApi.Embeddings => Embeddings,
        WireApi.Messages => Messages,
        _ => Responses,
    };

    public Uri Endpoint(Provider provider) => provider.Endpoint(Api);

    /// <summary>Whether the gateway must ask the provider for stream usage the client did not request (and hide it again).</summary>
    public bool InjectsStreamUsage(in ParsedRequest request) => Api == WireApi.ChatCompletions && request.Stream && !request.IncludeUsage;

    public UsageMeter CreateMeter(bool usageInjected) => _meter(usageInjected);
}

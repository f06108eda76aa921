using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// Translation between OpenAI Chat Completions and Anthropic Messages, one instance per direction:
/// <see cref="ChatToMessages"/> (a Chat Completions client served by an Anthropic model) and
/// <see cref="MessagesToChat"/> (a Messages client served by a Chat Completions model). Instances are stateless and
/// shared; the per-call state of a stream lives in the <see cref="StreamTranslator"/> that <see cref="CreateStream"/> makes.
/// </summary>
internal abstract class Translation
{
    /// <summary>The client speaks Chat Completions, the provider Anthropic Messages.</summary>
    public static readonly Translation ChatToMessages = new ChatToMessagesTranslation();

    /// <summary>The client speaks Anthropic Messages, the provider Chat Completions.</summary>
    public static readonly Translation MessagesToChat = new MessagesToChatTranslation();

    /// <summary>The API the client called.</summary>
    public abstract WireApi Client { get; }

    /// <summary>The API the provider is sent.</summary>
    public abstract WireApi Provider { get; }

    /// <summary>
    /// The translation from the client's API to the provider's; null when they are the same (the pipeline splices
    /// bytes) or when no translation exists between them (embeddings, Responses).
    /// </summary>
    public static Translation? Between(WireApi client, WireApi provider) => (client, provider) switch
    {
        (WireApi.ChatCompletions, WireApi.Messages) => ChatToMessages,
        (WireApi.Messages, WireApi.ChatCompletions) => MessagesToChat,
        _ => null,
    };

    /// <summary>
    /// Builds the provider request body from the client's. Null on success, with <paramref name="body"/> set (the
    /// caller disposes it); otherwise the reason for a 400, naming the parameters that cannot be translated, and
    /// <paramref name="body"/> null. A streaming request to a Chat provider always asks for
    /// <c>stream_options.include_usage</c>.
    /// </summary>
    public TranslationError? TranslateRequest(ReadOnlySpan<byte> clientBody, in TranslationOptions options, out PooledBuffer? body)
    {
        body = null;
        using var document = Wire.PooledDocument.Parse(clientBody);
        if (document is null || document.Root.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            return new TranslationError("The request body must be a JSON object.", null);
        }

        var buffer = new PooledBuffer(clientBody.Length + 256);
        TranslationError? error;
        try
        {
            error = WriteRequest(document.Root, options, buffer);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            error = new TranslationError(Malformed, "messages");
        }

        if (error is not null)
        {
            buffer.Dispose();
            return error;
        }

        body = buffer;
        return null;
    }

    /// <summary>
    /// A 2xx non-streaming provider body to the client's body. The model field carries the model the provider says
    /// served the call, <paramref name="clientModel"/> only when the provider names none.
    /// </summary>
    public abstract byte[] TranslateResponse(ReadOnlySpan<byte> providerBody, string clientModel);

    /// <summary>The 400 message for a request whose parts miss fields or have the wrong types.</summary>
    protected abstract string Malformed { get; }

    /// <summary>Writes the provider request for a parsed client request; null, or why it cannot be translated.</summary>
    protected abstract TranslationError? WriteRequest(System.Text.Json.JsonElement request, in TranslationOptions options, PooledBuffer output);

    /// <summary>A provider error body to the same error in the client's error shape, keeping its message.</summary>
    public abstract byte[] TranslateErrorBody(int status, ReadOnlySpan<byte> providerBody);

    /// <summary>
    /// Per-call state for a streamed answer. <paramref name="clientIncludeUsage"/>: the Chat client asked for
    /// <c>stream_options.include_usage</c> (ignored for Messages clients, who always get usage).
    /// </summary>
    public abstract StreamTranslator CreateStream(bool clientIncludeUsage, string clientModel);
}

/// <summary>What <see cref="Translation.TranslateRequest"/> needs besides the client's body.</summary>
/// <param name="UpstreamModel">The provider's model name (without the <c>provider/</c> prefix).</param>
/// <param name="DefaultMaxTokens">Sent as Anthropic's required <c>max_tokens</c> when the client gave no limit.</param>
/// <param name="DropUnsupported">Parameters with no equivalent are dropped instead of refused (the route's <c>drop_unsupported_params</c>).</param>
/// <param name="ProviderKind">
/// The provider when it speaks Chat: OpenAI and Azure OpenAI are sent <c>max_completion_tokens</c>, OpenAI-compatible
/// servers (vLLM, Ollama, ...) <c>max_tokens</c>.
/// </param>
internal readonly record struct TranslationOptions(
    string UpstreamModel,
    int DefaultMaxTokens = 4096,
    bool DropUnsupported = false,
    ProviderKind ProviderKind = ProviderKind.OpenAi);

/// <summary>Why a request cannot be translated: a client-facing message for a 400 and the (first) parameter at fault.</summary>
internal sealed record TranslationError(string Message, string? Param)
{
    /// <summary>The 400 the pipeline answers with.</summary>
    public GatewayError ToGatewayError() => GatewayError.InvalidRequest(Message, Param);
}

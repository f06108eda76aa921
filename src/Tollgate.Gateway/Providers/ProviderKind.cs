namespace Tollgate.Gateway.Providers;

internal enum ProviderKind
{
    OpenAi,
    Anthropic,
    OpenAiCompatible,
    AzureOpenAi,
}

internal static class ProviderKinds
{
    public static string ToWire(this ProviderKind kind) => kind switch
    {
        ProviderKind.OpenAi => "openai",
        ProviderKind.Anthropic => "anthropic",
        ProviderKind.OpenAiCompatible => "openai_compatible",
        _ => "azure_openai",
    };

    public static ProviderKind? Parse(string? wire) => wire switch
    {
        "openai" => ProviderKind.OpenAi,
        "anthropic" => ProviderKind.Anthropic,
        "openai_compatible" => ProviderKind.OpenAiCompatible,
        "azure_openai" => ProviderKind.AzureOpenAi,
        _ => null,
    };

    public static string? DefaultBaseUrl(this ProviderKind kind) => kind switch
    {
        ProviderKind.OpenAi => "https://api.openai.com/v1",
        ProviderKind.Anthropic => "https://api.anthropic.com/v1",
        _ => null,
    };

    /// <summary>The provider family whose built-in prices apply (Azure OpenAI bills OpenAI's list prices).</summary>
    public static string? CatalogFamily(this ProviderKind kind) => kind switch
    {
        ProviderKind.OpenAi or ProviderKind.AzureOpenAi => "openai",
        ProviderKind.Anthropic => "anthropic",
        _ => null,
    };

    /// <summary>
    /// Wire protocols a provider kind speaks natively. Tollgate relays, it does not translate:
    /// OpenAI-compatible servers (vLLM, Ollama, ...) also serve the Anthropic Messages API.
    /// </summary>
    public static bool Speaks(this ProviderKind kind, WireApi api) => kind switch
    {
        ProviderKind.Anthropic => api == WireApi.Messages,
        ProviderKind.OpenAiCompatible => true,
        _ => api != WireApi.Messages,
    };
}

/// <summary>The upstream API an endpoint relays to.</summary>
internal enum WireApi
{
    ChatCompletions,
    Embeddings,
    Messages,
    Responses,
}

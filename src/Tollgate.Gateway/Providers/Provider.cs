namespace Tollgate.Gateway.Providers;

/// <summary>A configured upstream with its decrypted API key (in memory only) and precomputed endpoint URIs.</summary>
internal sealed class Provider
{
    private readonly Uri[] _endpoints;

    public Provider(string name, ProviderKind kind, string baseUrl, string? apiKey, IReadOnlyList<string> models, DateTimeOffset createdAt)
    {
        Name = name;
        Kind = kind;
        BaseUrl = baseUrl.TrimEnd('/');
        ApiKey = apiKey;
        Models = models;
        CreatedAt = createdAt;
        _endpoints =
        [
            new Uri(BaseUrl + "/chat/completions"),
            new Uri(BaseUrl + "/embeddings"),
            new Uri(BaseUrl + "/messages"),
            new Uri(BaseUrl + "/responses"),
        ];
    }

    public string Name { get; }

    public ProviderKind Kind { get; }

    public string BaseUrl { get; }

    public string? ApiKey { get; }

    /// <summary>Models this provider advertises in <c>/v1/models</c> beyond the ones priced in the catalog.</summary>
    public IReadOnlyList<string> Models { get; }

    public DateTimeOffset CreatedAt { get; }

    public Uri Endpoint(WireApi api) => _endpoints[(int)api];

    /// <summary>A Responses API follow-up: <c>/responses/{id}</c> plus <paramref name="suffix"/> (e.g. <c>/cancel</c>) and the client's query.</summary>
    public Uri ResponseEndpoint(string id, string suffix, string query) =>
        new(BaseUrl + "/responses/" + Uri.EscapeDataString(id) + suffix + query);
}

using System.Collections.Frozen;
using System.Net.Http.Headers;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Proxy;

/// <summary>
/// Which headers cross the gateway. Client headers meant for the provider pass (e.g. <c>OpenAI-Beta</c>,
/// <c>anthropic-version</c>, <c>anthropic-beta</c>); the client's credentials, hop-by-hop headers and Tollgate's own
/// attribution headers never do. Provider headers that describe the provider account (its rate limits, organization) stay behind.
/// </summary>
internal static class UpstreamHeaders
{
    private static readonly FrozenSet<string> NotForwarded = new[]
    {
        "host", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
        "proxy-connection", "proxy-authenticate", "content-length", "content-type", "expect",
        "authorization", "x-api-key", "api-key", "cookie", "accept-encoding",
        "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string> NotReturned = new[]
    {
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate",
        "content-length", "set-cookie", "openai-organization", "openai-project", "anthropic-organization-id",
        "server", "date", "alt-svc", "strict-transport-security",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static void CopyRequestHeaders(IHeaderDictionary from, HttpRequestMessage to, Provider provider)
    {
        foreach (var (name, value) in from)
        {
            if (NotForwarded.Contains(name) || name.StartsWith("x-tollgate-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith(':') || AttributionReader.IsAttributionHeader(name))
            {
                continue;
            }

            to.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)value!);
        }

        switch (provider.Kind)
        {
            case ProviderKind.Anthropic:
                if (provider.ApiKey is not null)
                {
                    to.Headers.TryAddWithoutValidation("x-api-key", provider.ApiKey);
                }

                if (!to.Headers.Contains("anthropic-version"))
                {
                    to.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
                }

                break;
            case ProviderKind.AzureOpenAi:
                if (provider.ApiKey is not null)
                {
                    to.Headers.TryAddWithoutValidation("api-key", provider.ApiKey);
                }

                break;
            default:
                if (provider.ApiKey is not null)
                {
                    to.Headers.Authorization = new AuthenticationHeaderValue("Bearer", provider.ApiKey);
                }

                break;
        }
    }

    public static void CopyResponseHeaders(HttpResponseMessage from, HttpResponse to)
    {
        Copy(from.Headers, to);
        Copy(from.Content.Headers, to);
    }

    private static void Copy(HttpHeaders headers, HttpResponse to)
    {
        foreach (var (name, values) in headers.NonValidated)
        {
            if (NotReturned.Contains(name) || name.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("anthropic-ratelimit-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            to.Headers[name] = values.Count == 1 ? values.ToString() : values.ToArray();
        }
    }
}

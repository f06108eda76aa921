using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Translation;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Caching;

/// <summary>
/// Provider prompt caching a policy turns on (docs/api.md): <c>anthropic_auto</c> marks the last tool definition and the
/// last system block with <c>cache_control: {"type":"ephemeral"}</c> when the request marks nothing itself and that
/// prefix reaches the model's minimum cacheable length (two breakpoints, within Anthropic's limit of four);
/// <c>openai_cache_key</c> sets <c>prompt_cache_key</c>, derived from the namespace, when the request has none, so calls
/// of one namespace land on the same OpenAI cache shard. The body is rewritten only then; otherwise it goes as it came.
/// </summary>
internal static class PromptCaching
{
    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };

    /// <summary>Anthropic's minimum cacheable prompt length of a model, in tokens (its prompt-caching documentation).</summary>
    public static int MinimumTokens(string model) =>
        model.Contains("opus-4-5", StringComparison.Ordinal) || model.Contains("haiku-4-5", StringComparison.Ordinal) ? 4096
        : model.Contains("haiku", StringComparison.Ordinal) ? 2048
        : 1024;

    /// <summary>The body with the policy's prompt caching applied, or null when nothing changes.</summary>
    public static PooledBuffer? Apply(ReadOnlySpan<byte> body, PromptCachingSettings settings, ProviderKind kind, WireApi api, string upstreamModel, string ns) =>
        kind == ProviderKind.Anthropic && api == WireApi.Messages && settings.AnthropicAuto ? AddBreakpoints(body, MinimumTokens(upstreamModel))
        : settings.OpenAiCacheKey && kind is ProviderKind.OpenAi or ProviderKind.AzureOpenAi && api is WireApi.ChatCompletions or WireApi.Responses ? AddCacheKey(body, ns)
        : null;

    /// <summary>The <c>prompt_cache_key</c> of a namespace: a hash, so no key id or team name goes to the provider.</summary>
    public static string CacheKeyOf(string ns) => "tollgate-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ns)))[..24];

    private static PooledBuffer? AddBreakpoints(ReadOnlySpan<byte> body, int minimum)
    {
        if (body.IndexOf("\"cache_control\""u8) >= 0 || JsonNode.Parse(body, NodeOptions, Wire.DocumentOptions) is not JsonObject root)
        {
            return null;
        }

        var tools = root["tools"] as JsonArray;
        var toolTokens = tools is { Count: > 0 } ? TokenEstimator.CountText(Encoding.UTF8.GetBytes(tools.ToJsonString())) : 0;
        var system = root["system"];
        var systemTokens = system switch
        {
            JsonValue text when text.TryGetValue<string>(out var s) => TokenEstimator.CountText(Encoding.UTF8.GetBytes(s)),
            JsonArray blocks => TokenEstimator.CountText(Encoding.UTF8.GetBytes(blocks.ToJsonString())),
            _ => 0,
        };

        var changed = false;
        if (toolTokens >= minimum && tools![^1] is JsonObject lastTool)
        {
            lastTool["cache_control"] = Ephemeral();
            changed = true;
        }

        if (systemTokens > 0 && toolTokens + systemTokens >= minimum)
        {
            if (system is JsonValue text && text.TryGetValue<string>(out var s))
            {
                root["system"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = s, ["cache_control"] = Ephemeral() });
                changed = true;
            }
            else if (system is JsonArray { Count: > 0 } blocks && blocks[^1] is JsonObject last)
            {
                last["cache_control"] = Ephemeral();
                changed = true;
            }
        }

        return changed ? Write(root) : null;
    }

    private static PooledBuffer? AddCacheKey(ReadOnlySpan<byte> body, string ns)
    {
        if (body.IndexOf("\"prompt_cache_key\""u8) >= 0 || JsonNode.Parse(body, NodeOptions, Wire.DocumentOptions) is not JsonObject root)
        {
            return null;
        }

        root["prompt_cache_key"] = CacheKeyOf(ns);
        return Write(root);
    }

    private static JsonObject Ephemeral() => new() { ["type"] = "ephemeral" };

    private static PooledBuffer Write(JsonNode root)
    {
        var output = new PooledBuffer(4096);
        using (var writer = new Utf8JsonWriter(output, Wire.WriterOptions))
        {
            root.WriteTo(writer);
        }

        return output;
    }
}

using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Providers;

namespace Tollgate.Gateway.Routing;

/// <summary>
/// Turns a route into the targets one call tries, in order: the first chosen by the route's rules (first match wins)
/// or else by weight, then its fallbacks; targets cooling down go last, targets that cannot serve the client's API
/// (even translated) or whose provider does not exist are left out. The complexity classifier runs only when a rule
/// with a <c>complexity</c> condition is evaluated (its other conditions held and no earlier rule matched), once a call.
/// </summary>
internal sealed class Router(RouteTable routes, ProviderRegistry providers, TargetCooldowns cooldowns, ComplexityModel complexity)
{
    public const string ByRule = "rule";
    public const string ByWeight = "weight";
    public const string ByDowngrade = "downgrade";
    public const string ByFallback = "fallback";

    private readonly ConcurrentDictionary<string, Regex> _patterns = new(StringComparer.Ordinal);

    public Route? Find(string name) => routes.Find(name);

    /// <summary>The first target of a call: the model of the first rule whose conditions all hold, else one of the targets by weight.</summary>
    public (string Model, string Reason) Choose(Route route, VirtualKey key, in Attribution attribution, IHeaderDictionary headers, ReadOnlySpan<byte> body)
    {
        if (route.Rules.Count > 0)
        {
            RequestFacts? facts = null; // read at most once a call, and only when a rule looks at the body
            var tokens = -1L;
            Complexity? classified = null; // classified at most once a call, and only when a rule asks
            foreach (var rule in route.Rules)
            {
                if (Holds(rule.When, key, attribution, headers, body, ref facts, ref tokens, ref classified))
                {
                    return (rule.Model, ByRule);
                }
            }
        }

        return (ByWeightOf(route.Targets), ByWeight);
    }

    /// <summary>
    /// The targets to try after choosing <paramref name="first"/>: it, then the fallbacks (each once). Targets in a
    /// cooldown move behind the others (a call whose every target cools still tries them); targets that cannot serve
    /// the client's API are left out.
    /// </summary>
    public List<RouteAttempt> Chain(Route route, string first, string reason, WireApi client)
    {
        var ready = new List<RouteAttempt>();
        var cooling = new List<RouteAttempt>();
        foreach (var model in new[] { first }.Concat(route.Fallbacks).Distinct(StringComparer.Ordinal))
        {
            if (Target(model, client, model == first ? reason : ByFallback) is { } attempt)
            {
                (cooldowns.IsCooling(model) ? cooling : ready).Add(attempt);
            }
        }

        ready.AddRange(cooling);
        return ready;
    }

    /// <summary>A <c>provider/model</c> as an attempt for a client of <paramref name="client"/>, or null when it cannot serve it.</summary>
    public RouteAttempt? Target(string model, WireApi client, string reason)
    {
        var slash = model.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || providers.Find(model.AsSpan(0, slash)) is not { } provider)
        {
            return null;
        }

        var api = provider.Kind.Speaks(client) ? client : TranslatedApi(client, provider.Kind);
        return api is { } a ? new RouteAttempt(provider, model, model[(slash + 1)..], a, reason) : null;
    }

    /// <summary>The API a provider of <paramref name="kind"/> is spoken to in for a client of <paramref name="client"/> when the two differ: Chat Completions ⇄ Anthropic Messages.</summary>
    private static WireApi? TranslatedApi(WireApi client, ProviderKind kind) => (client, kind) switch
    {
        (WireApi.ChatCompletions, ProviderKind.Anthropic) => WireApi.Messages,
        (WireApi.Messages, ProviderKind.OpenAi or ProviderKind.AzureOpenAi) => WireApi.ChatCompletions,
        _ => null,
    };

    private static string ByWeightOf(IReadOnlyList<RouteTarget> targets)
    {
        var total = targets.Sum(t => (long)t.Weight);
        if (total <= 0)
        {
            return targets[0].Model;
        }

        var pick = Random.Shared.NextInt64(total);
        foreach (var target in targets)
        {
            if ((pick -= target.Weight) < 0)
            {
                return target.Model;
            }
        }

        return targets[^1].Model;
    }

    private static RequestFacts Facts(ReadOnlySpan<byte> body, ref RequestFacts? facts) => facts ??= RequestFacts.Read(body);

    private bool Holds(RouteCondition when, VirtualKey key, in Attribution attribution, IHeaderDictionary headers, ReadOnlySpan<byte> body, ref RequestFacts? facts, ref long tokens, ref Complexity? classified)
    {
        if ((when.Team is { } team && team != attribution.Team)
            || (when.Project is { } project && project != attribution.Project)
            || (when.Feature is { } feature && feature != attribution.Feature)
            || (when.Plan is { } plan && plan != key.Plan))
        {
            return false;
        }

        foreach (var (name, value) in when.Header ?? new Dictionary<string, string>())
        {
            if (!headers.TryGetValue(name, out var sent) || !string.Equals(sent.ToString(), value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        if (when.MinInputTokens is not null || when.MaxInputTokens is not null)
        {
            tokens = tokens >= 0 ? tokens : TokenEstimator.EstimateInput(body);
            if (tokens < (when.MinInputTokens ?? 0) || tokens > (when.MaxInputTokens ?? long.MaxValue))
            {
                return false;
            }
        }

        if ((when.HasTools is { } tools && tools != Facts(body, ref facts).HasTools) || (when.HasImages is { } images && images != Facts(body, ref facts).HasImages))
        {
            return false;
        }

        if (when.Matches is { } pattern && !Matches(pattern, Facts(body, ref facts).LastUserTurn))
        {
            return false;
        }

        if (when.Complexity is not { } wanted)
        {
            return true;
        }

        classified ??= complexity.Classify(Facts(body, ref facts).LastUserTurn);
        return wanted == (classified == Complexity.High ? "high" : "low");
    }

    private bool Matches(string pattern, string text)
    {
        var regex = _patterns.GetOrAdd(pattern, p => new Regex(p, RegexOptions.CultureInvariant, RouteValidation.MatchTimeout));
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}

/// <summary>One target a call may be sent to: its provider, the API the provider is spoken to in, and why it is tried.</summary>
internal sealed record RouteAttempt(Provider Provider, string Model, string UpstreamModel, WireApi Api, string Reason);

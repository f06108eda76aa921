using System.Globalization;

namespace Tollgate.Gateway.Governance;

/// <summary>The tightest requests and tokens limits after a reservation, written in the called API's header style.</summary>
public sealed record RateLimitHeaders(RateState? Requests, RateState? Tokens)
{
    public void Apply(HttpResponse response, Proxy.ErrorShape shape, DateTimeOffset now)
    {
        Write(response, shape, "requests", Requests, now);
        Write(response, shape, "tokens", Tokens, now);
    }

    private static void Write(HttpResponse response, Proxy.ErrorShape shape, string kind, RateState? state, DateTimeOffset now)
    {
        if (state is not { } s)
        {
            return;
        }

        var h = response.Headers;
        if (shape == Proxy.ErrorShape.Anthropic)
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
}

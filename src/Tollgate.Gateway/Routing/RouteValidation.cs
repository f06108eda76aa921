using System.Globalization;
using System.Text.RegularExpressions;

namespace Tollgate.Gateway.Routing;

/// <summary>
/// The checks every route passes, whether it comes from the admin API or the configuration file (docs/api.md
/// "Routes"). A provider a model names need not exist yet (as with a key's <c>models</c>): providers may be added later.
/// </summary>
internal static class RouteValidation
{
    public const int MaxNameLength = 128;

    public const int MaxAttempts = 10;

    public const int MaxBackoffMs = 60_000;

    /// <summary>How long one <c>matches</c> regex may run on one prompt before it counts as not matching.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>The failures <c>retry.on</c> may name besides HTTP statuses 400–599.</summary>
    public static readonly IReadOnlyList<string> FailureNames = ["timeout", "connect", "context_length"];

    /// <summary>The values of <c>when.complexity</c>.</summary>
    public static readonly IReadOnlyList<string> Complexities = ["low", "high"];

    /// <summary>The first problem of a route, with the field it concerns (<c>targets[1].weight</c>), or null when it is valid.</summary>
    public static (string Message, string Field)? Validate(Route route)
    {
        if (ValidateName(route.Name) is { } nameError)
        {
            return (nameError, "name");
        }

        if (route.Targets.Count == 0)
        {
            return ("'targets' needs at least one {model, weight}.", "targets");
        }

        for (var i = 0; i < route.Targets.Count; i++)
        {
            var target = route.Targets[i];
            if (ModelError(target.Model, $"targets[{i}].model") is { } modelError)
            {
                return modelError;
            }

            if (target.Weight < 0)
            {
                return ($"'targets[{i}].weight' must be 0 or more (0 turns the target off).", $"targets[{i}].weight");
            }
        }

        if (route.Targets.All(t => t.Weight == 0))
        {
            return ("At least one of 'targets' needs a weight above 0.", "targets");
        }

        for (var i = 0; i < route.Rules.Count; i++)
        {
            if (RuleError(route.Rules[i], $"rules[{i}]") is { } ruleError)
            {
                return ruleError;
            }
        }

        if (route.Downgrade is { } downgrade)
        {
            if (downgrade.At is <= 0 or > 1)
            {
                return ("'downgrade.at' must be a fraction in (0, 1], such as 0.8.", "downgrade.at");
            }

            if (ModelError(downgrade.Model, "downgrade.model") is { } modelError)
            {
                return modelError;
            }
        }

        for (var i = 0; i < route.Fallbacks.Count; i++)
        {
            if (ModelError(route.Fallbacks[i], $"fallbacks[{i}]") is { } modelError)
            {
                return modelError;
            }
        }

        if (route.Retry.Attempts is < 1 or > MaxAttempts)
        {
            return ($"'retry.attempts' must be 1 to {MaxAttempts} (tries per target, the first included).", "retry.attempts");
        }

        if (route.Retry.BackoffMs is < 0 or > MaxBackoffMs)
        {
            return ($"'retry.backoff_ms' must be 0 to {MaxBackoffMs}.", "retry.backoff_ms");
        }

        for (var i = 0; i < route.Retry.On.Count; i++)
        {
            if (!IsFailure(route.Retry.On[i]))
            {
                return ($"'retry.on[{i}]' is '{route.Retry.On[i]}'; each entry must be an HTTP status from 400 to 599 or one of {string.Join(", ", FailureNames)}.", $"retry.on[{i}]");
            }
        }

        if (route.Cooldown.Failures < 1)
        {
            return ("'cooldown.failures' must be 1 or more.", "cooldown.failures");
        }

        return route.Cooldown.Seconds < 1 ? ("'cooldown.seconds' must be 1 or more.", "cooldown.seconds") : null;
    }

    /// <summary>What is wrong with a route name, or null: 1 to 128 characters, no <c>/</c> (so it never reads as <c>provider/model</c>), no white space or control characters.</summary>
    public static string? ValidateName(string? name) =>
        string.IsNullOrEmpty(name) ? "'name' is required."
        : name.Length > MaxNameLength ? $"'name' may have at most {MaxNameLength} characters."
        : name.Contains('/', StringComparison.Ordinal) ? "'name' may not contain '/' (that would read as provider/model)."
        : name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? "'name' may not contain white space or control characters."
        : null;

    /// <summary><c>provider/model</c>: a provider name and a model name, both non-empty, no white space (the model may contain further slashes).</summary>
    public static bool IsProviderModel(string? model)
    {
        var slash = model?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        return slash > 0 && slash < model!.Length - 1 && !model.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));
    }

    /// <summary>An HTTP status 400–599 written as a whole number, or one of <see cref="FailureNames"/>.</summary>
    public static bool IsFailure(string? entry) =>
        entry is not null && (FailureNames.Contains(entry, StringComparer.Ordinal)
            || (entry.Length == 3 && int.TryParse(entry, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 400 and <= 599));

    private static (string, string)? ModelError(string? model, string field) =>
        IsProviderModel(model) ? null : ($"'{field}' must be a model as provider/model, such as openai/gpt-4o-mini; got '{model}'.", field);

    private static (string, string)? RuleError(RouteRule rule, string at)
    {
        var when = rule.When;
        if (when is null || (when with { Header = null }) == new RouteCondition() && when.Header is null or { Count: 0 })
        {
            return ($"'{at}.when' needs at least one condition (a rule without one would always match; use 'targets' for that).", at + ".when");
        }

        if (when.MinInputTokens is < 0)
        {
            return ($"'{at}.when.min_input_tokens' must be 0 or more.", at + ".when.min_input_tokens");
        }

        if (when.MaxInputTokens is < 0)
        {
            return ($"'{at}.when.max_input_tokens' must be 0 or more.", at + ".when.max_input_tokens");
        }

        if (when.MinInputTokens > when.MaxInputTokens)
        {
            return ($"'{at}.when.min_input_tokens' is above its 'max_input_tokens'.", at + ".when.min_input_tokens");
        }

        if (when.Matches is { } pattern)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.None, MatchTimeout);
            }
            catch (ArgumentException e)
            {
                return ($"'{at}.when.matches' is not a valid .NET regular expression: {e.Message}", at + ".when.matches");
            }
        }

        if (when.Complexity is { } complexity && !Complexities.Contains(complexity, StringComparer.Ordinal))
        {
            return ($"'{at}.when.complexity' must be low or high.", at + ".when.complexity");
        }

        foreach (var (field, value) in new[] { ("team", when.Team), ("project", when.Project), ("feature", when.Feature), ("plan", when.Plan) })
        {
            if (value is { Length: 0 })
            {
                return ($"'{at}.when.{field}' may not be empty (leave it out to not constrain).", $"{at}.when.{field}");
            }
        }

        if (when.Header is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || c == ':'))
                {
                    return ($"'{at}.when.header' has an invalid header name '{name}'.", at + ".when.header");
                }

                if (value is null)
                {
                    return ($"'{at}.when.header.{name}' needs a value.", at + ".when.header");
                }
            }
        }

        return ModelError(rule.Model, at + ".model");
    }
}

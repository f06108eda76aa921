using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tollgate.Gateway.Routing;
using Tollgate.Gateway.Storage;
using Route = Tollgate.Gateway.Routing.Route;

namespace Tollgate.Gateway.Admin;

/// <summary>
/// Admin API for routes (docs/api.md "Routes"): <c>POST /admin/routes</c>, <c>GET /admin/routes</c>,
/// <c>GET|PATCH|DELETE /admin/routes/{name}</c>. Authorization, audit and the announcement to other replicas are the
/// admin group's filter (<see cref="AdminEndpoints"/>).
/// </summary>
internal static class RouteEndpoints
{
    public static void MapRoutes(this RouteGroupBuilder admin)
    {
        admin.MapGet("/routes", (RouteTable routes) => AdminEndpoints.Json(routes.List().Select(RouteView.From)));
        admin.MapGet("/routes/{name}", (string name, RouteTable routes) =>
            routes.Find(name) is { } route ? AdminEndpoints.Json(RouteView.From(route)) : NotFound(name));
        admin.MapPost("/routes", (HttpRequest http, RouteTable routes, TimeProvider time) => SaveAsync(null, http, routes, time));
        admin.MapPatch("/routes/{name}", (string name, HttpRequest http, RouteTable routes, TimeProvider time) => SaveAsync(name, http, routes, time));
        admin.MapDelete("/routes/{name}", (string name, RouteTable routes) => routes.Delete(name) ? Results.NoContent() : NotFound(name));
    }

    private static IResult NotFound(string name) => AdminEndpoints.NotFound($"No route named '{name}'.");

    /// <summary>Creates (name null) or edits a route: an edit changes only the fields the body gives.</summary>
    private static async Task<IResult> SaveAsync(string? name, HttpRequest http, RouteTable routes, TimeProvider time)
    {
        Route? existing = null;
        if (name is not null && (existing = routes.Find(name)) is null)
        {
            return NotFound(name);
        }

        var (body, error) = await AdminEndpoints.ReadAsync<JsonObject>(http);
        if (body is null)
        {
            return error!;
        }

        RouteRequest request;
        try
        {
            request = body.Deserialize<RouteRequest>(StoreJson.Options) ?? throw new JsonException("A JSON object is required.");
        }
        catch (JsonException e)
        {
            return AdminEndpoints.Invalid("The request body is not valid JSON for this endpoint: " + e.Message);
        }

        if (existing is null)
        {
            if (RouteValidation.ValidateName(request.Name) is { } nameError)
            {
                return AdminEndpoints.Invalid(nameError, "name");
            }

            if (routes.Find(request.Name!) is not null)
            {
                return AdminEndpoints.Invalid($"A route named '{request.Name}' exists; PATCH /admin/routes/{{name}} edits it.", "name");
            }
        }
        else if (request.Name is { } renamed && renamed != existing.Name)
        {
            return AdminEndpoints.Invalid("A route's 'name' cannot change; create the route under the new name and delete this one.", "name");
        }

        var start = existing ?? new Route(request.Name!, [], [], null, [], RetryPolicy.Default, CooldownPolicy.Default, false, time.GetUtcNow());
        var route = request.ApplyTo(start, body);
        if (RouteValidation.Validate(route) is { } invalid)
        {
            return AdminEndpoints.Invalid(invalid.Message, invalid.Field);
        }

        routes.Save(route);
        return existing is null ? Results.Json(RouteView.From(route), StoreJson.Options, statusCode: 201) : AdminEndpoints.Json(RouteView.From(route));
    }

    /// <summary>A POST or PATCH body; every field optional here, so that a PATCH can give only some.</summary>
    private sealed record RouteRequest(
        string? Name,
        IReadOnlyList<TargetRequest?>? Targets,
        IReadOnlyList<RuleRequest?>? Rules,
        DowngradeRequest? Downgrade,
        IReadOnlyList<string?>? Fallbacks,
        RetryRequest? Retry,
        CooldownRequest? Cooldown,
        bool? DropUnsupportedParams)
    {
        /// <summary>
        /// <paramref name="route"/> with the fields this body gives: lists replace the route's; <c>retry</c>,
        /// <c>cooldown</c> and <c>downgrade</c> change only the members given; an explicit <c>null</c> resets a field
        /// (no rules, no fallbacks, no downgrade, the default retry or cooldown).
        /// </summary>
        public Route ApplyTo(Route route, JsonObject body)
        {
            bool Given(string field) => body.ContainsKey(field);
            var downgrade = !Given("downgrade") ? route.Downgrade
                : Downgrade is null ? null
                : new RouteDowngrade(Downgrade.At ?? route.Downgrade?.At ?? 0, Downgrade.Model ?? route.Downgrade?.Model ?? "");
            var retry = !Given("retry") ? route.Retry
                : Retry is null ? RetryPolicy.Default
                : new RetryPolicy(Retry.Attempts ?? route.Retry.Attempts, Retry.BackoffMs ?? route.Retry.BackoffMs, Retry.On ?? route.Retry.On);
            var cooldown = !Given("cooldown") ? route.Cooldown
                : Cooldown is null ? CooldownPolicy.Default
                : new CooldownPolicy(Cooldown.Failures ?? route.Cooldown.Failures, Cooldown.Seconds ?? route.Cooldown.Seconds);
            return route with
            {
                Targets = Given("targets") ? [.. (Targets ?? []).Select(t => new RouteTarget(t?.Model ?? "", t?.Weight ?? 1))] : route.Targets,
                Rules = Given("rules") ? [.. (Rules ?? []).Select(r => new RouteRule(r?.When!, r?.Model ?? ""))] : route.Rules,
                Downgrade = downgrade,
                Fallbacks = Given("fallbacks") ? [.. (Fallbacks ?? []).Select(f => f ?? "")] : route.Fallbacks,
                Retry = retry,
                Cooldown = cooldown,
                DropUnsupportedParams = DropUnsupportedParams ?? route.DropUnsupportedParams,
            };
        }
    }

    private sealed record TargetRequest(string? Model, int? Weight);

    private sealed record RuleRequest(RouteCondition? When, string? Model);

    private sealed record DowngradeRequest(decimal? At, string? Model);

    private sealed record RetryRequest(int? Attempts, int? BackoffMs, [property: JsonConverter(typeof(RetryOnConverter))] IReadOnlyList<string>? On);

    private sealed record CooldownRequest(int? Failures, int? Seconds);

    /// <summary>A route as the admin API shows it: the <see cref="Route"/> itself, with <c>retry.on</c> statuses as JSON numbers.</summary>
    internal sealed record RouteView(
        string Name,
        IReadOnlyList<RouteTarget> Targets,
        IReadOnlyList<RouteRule> Rules,
        RouteDowngrade? Downgrade,
        IReadOnlyList<string> Fallbacks,
        RetryView Retry,
        CooldownPolicy Cooldown,
        bool DropUnsupportedParams,
        DateTimeOffset CreatedAt)
    {
        public static RouteView From(Route r) =>
            new(r.Name, r.Targets, r.Rules, r.Downgrade, r.Fallbacks, new RetryView(r.Retry.Attempts, r.Retry.BackoffMs, r.Retry.On), r.Cooldown, r.DropUnsupportedParams, r.CreatedAt);
    }

    internal sealed record RetryView(int Attempts, int BackoffMs, [property: JsonConverter(typeof(RetryOnConverter))] IReadOnlyList<string> On);
}

/// <summary>
/// <c>retry.on</c>: HTTP statuses as JSON numbers and failure names as strings (<c>[429, 500, "timeout"]</c>), kept as
/// strings (<c>"429"</c>) in <see cref="RetryPolicy.On"/>; written back with the statuses as numbers again. A status
/// given as a string (<c>"429"</c>) is the same entry. Whether an entry is a status or a known name is
/// <see cref="RouteValidation.IsFailure"/>'s to say, with the field named.
/// </summary>
internal sealed class RetryOnConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("'retry.on' must be an array of HTTP statuses (numbers) and failure names (strings).");
        }

        var entries = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            entries.Add(reader.TokenType switch
            {
                JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
                JsonTokenType.String => reader.GetString()!,
                _ => throw new JsonException("'retry.on' entries are HTTP statuses (numbers) or failure names (strings)."),
            });
        }

        return entries;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var entry in value)
        {
            if (entry.Length is > 0 and < 10 && int.TryParse(entry, NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                writer.WriteNumberValue(status);
            }
            else
            {
                writer.WriteStringValue(entry);
            }
        }

        writer.WriteEndArray();
    }
}

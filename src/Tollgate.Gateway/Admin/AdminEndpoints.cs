using System.Globalization;
using System.Text.Json;
using Tollgate.Gateway.Alerts;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Admin;

/// <summary>The operator API (docs/api.md "Admin API"): providers, prices, virtual keys, usage.</summary>
internal static class AdminEndpoints
{
    public static void MapAdmin(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter(AuthorizeAsync);

        admin.MapGet("/providers", (ProviderRegistry registry) => Json(registry.List().Select(ProviderView.From)));
        admin.MapPost("/providers", CreateProviderAsync);
        admin.MapDelete("/providers/{name}", (string name, ProviderRegistry registry) =>
            registry.Delete(name) ? Results.NoContent() : NotFound($"No provider named '{name}'."));

        admin.MapGet("/prices", (PriceCatalog catalog) => Json(catalog.All().Select(p => PriceView.From(p.Provider, p.Model, p.Price, p.BuiltIn))));
        admin.MapPut("/prices/{provider}/{**model}", SetPriceAsync);

        admin.MapPost("/keys", CreateKeyAsync);
        admin.MapGet("/keys", (KeyService keys, Database db, TimeProvider time) =>
        {
            var lastUse = KeyLastUse.Read(db);
            return Json(keys.List().Select(k => KeyView.From(k, time.GetUtcNow(), lastUsedAt: lastUse.TryGetValue(k.Id, out var at) ? at : null)));
        });
        admin.MapGet("/keys/{id}", (string id, KeyService keys, Database db, TimeProvider time) =>
            keys.Get(id) is { } key
                ? Json(KeyView.From(key, time.GetUtcNow(), lastUsedAt: KeyLastUse.Read(db, id).TryGetValue(id, out var at) ? at : null))
                : NotFound($"No key with id '{id}'."));
        admin.MapPatch("/keys/{id}", PatchKeyAsync);
        admin.MapDelete("/keys/{id}", (string id, KeyService keys, TimeProvider time) =>
        {
            if (keys.Get(id) is not { } key)
            {
                return NotFound($"No key with id '{id}'.");
            }

            var revoked = key.RevokedAt is null ? key with { RevokedAt = time.GetUtcNow() } : key;
            keys.Update(revoked);
            return Json(KeyView.From(revoked, time.GetUtcNow()));
        });

        admin.MapGet("/usage", UsageAsync);
        admin.MapGet("/reports/chargeback", Reports.ReportEndpoints.HandleAsync);
        admin.MapGet("/reports/unit-economics", Reports.ReportEndpoints.UnitEconomicsAsync);
        admin.MapGet("/reports/overview", Reports.OverviewReport.HandleAsync);
        admin.MapGet("/export/focus", Reports.FocusExport.HandleAsync);
        admin.MapGovernance();
        admin.MapRoutes();
        admin.MapCache();

        admin.MapPost("/webhooks", CreateWebhookAsync);
        admin.MapGet("/webhooks", (AlertService alerts) => Json(alerts.Webhooks().Select(h => new { h.Id, h.Url, h.Events, h.CreatedAt })));
        admin.MapGet("/webhooks/{id}/deliveries", (string id, AlertService alerts) => Json(alerts.Deliveries(id)));
        admin.MapDelete("/webhooks/{id}", (string id, AlertService alerts) => alerts.DeleteWebhook(id) ? Results.NoContent() : NotFound($"No webhook with id '{id}'."));
        admin.MapGet("/alerts", (HttpRequest http, AlertService alerts, TimeProvider time) => Listed(http, time, (from, to, page) =>
            Json(alerts.History(from, to, http.Query["type"].ToString() is { Length: > 0 } type ? type : null, page).Select(a => System.Text.Json.Nodes.JsonNode.Parse(AlertService.Serialize(a))))));
        admin.MapGet("/audit", (HttpRequest http, AuditLog audit, TimeProvider time) => Listed(http, time, (from, to, page) => Json(audit.List(from, to, page))));
    }

    private static async Task<IResult> CreateWebhookAsync(HttpRequest http, AlertService alerts)
    {
        var (request, error) = await ReadAsync<WebhookRequest>(http);
        if (request is null)
        {
            return error!;
        }

        if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return Invalid("'url' must be an absolute http(s) URL.", "url");
        }

        if (request.Events?.FirstOrDefault(e => !AlertService.EventTypes.Contains(e)) is { } unknown)
        {
            return Invalid($"Unknown event '{unknown}'. Events: {string.Join(", ", AlertService.EventTypes)}.", "events");
        }

        var hook = alerts.AddWebhook(request.Url!, request.Events ?? [], string.IsNullOrEmpty(request.Secret) ? null : request.Secret);
        return Results.Json(new { hook.Id, hook.Url, hook.Events, hook.Secret, hook.CreatedAt }, StoreJson.Options, statusCode: 201);
    }

    private sealed record WebhookRequest(string? Url, string[]? Events, string? Secret);

    /// <summary>A newest-first list between <c>from</c> and <c>to</c>, paged by <c>limit</c> and <c>offset</c>.</summary>
    private static IResult Listed(HttpRequest http, TimeProvider time, Func<DateTimeOffset, DateTimeOffset, Page, IResult> list)
    {
        var (from, to, error) = TimeRange(http, time);
        var (page, pageError) = Paging(http);
        return error ?? pageError ?? list(from, to, page);
    }

    /// <summary>The optional <c>limit</c> (1–1000) and <c>offset</c> of a newest-first list; without them, the whole list.</summary>
    internal static (Page Page, IResult? Error) Paging(HttpRequest http)
    {
        var limit = long.MaxValue;
        var offset = 0L;
        if (http.Query["limit"].ToString() is { Length: > 0 } l && (!long.TryParse(l, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            return (default, Invalid("'limit' must be a whole number from 1 to 1000.", "limit"));
        }

        if (http.Query["offset"].ToString() is { Length: > 0 } o && (!long.TryParse(o, CultureInfo.InvariantCulture, out offset) || offset < 0))
        {
            return (default, Invalid("'offset' must be a whole number, 0 or more.", "offset"));
        }

        return (new Page(limit, offset), null);
    }

    /// <summary>The <c>from</c>/<c>to</c> query (ISO-8601; default: everything until now).</summary>
    internal static (DateTimeOffset From, DateTimeOffset To, IResult? Error) TimeRange(HttpRequest http, TimeProvider time)
    {
        var from = DateTimeOffset.UnixEpoch;
        var to = time.GetUtcNow().AddSeconds(1);
        if (http.Query["from"].ToString() is { Length: > 0 } f && !DateTimeOffset.TryParse(f, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out from))
        {
            return (from, to, Invalid("'from' must be an ISO-8601 time.", "from"));
        }

        if (http.Query["to"].ToString() is { Length: > 0 } t && !DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out to))
        {
            return (from, to, Invalid("'to' must be an ISO-8601 time.", "to"));
        }

        return (from, to, null);
    }

    private static async ValueTask<object?> AuthorizeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        await http.RequestServices.GetRequiredService<ConfigSync>().EnsureFreshAsync();
        var readOnly = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);
        var header = http.Request.Headers.Authorization.ToString();
        // A Bearer header decides when present (browsers never attach one by themselves, so it needs no CSRF token);
        // otherwise a console session cookie may stand in for it.
        var (role, actor, error) = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? FromBearer(http, header.AsSpan(7).Trim())
            : http.Request.Cookies.ContainsKey(ConsoleSessionEndpoints.CookieName) ? await ConsoleSessionEndpoints.AuthorizeAdminAsync(http, readOnly)
            : ("", "", Error(GatewayError.MissingApiKey));
        if (error is not null)
        {
            return error;
        }

        if (role != VirtualKey.AdminRole && !(role == VirtualKey.ViewerRole && readOnly))
        {
            return Error(new GatewayError(403, "forbidden", role == VirtualKey.ViewerRole
                ? "Viewer keys and sessions may only read (GET)."
                : "This key has no admin rights."));
        }

        var config = http.RequestServices.GetRequiredService<ConfigLoader>();
        var (collection, id) = Target(http.Request.Path);
        if (readOnly)
        {
            return MarkManaged(await next(context), collection, config);
        }

        if (id.Length > 0 && config.IsManaged(collection, id))
        {
            return Error(new GatewayError(409, "managed_by_config", $"{collection}/{id} comes from the configuration file; change it there."));
        }

        var result = await http.RequestServices.GetRequiredService<AuditLog>().RecordAsync(context, next, actor);
        await http.RequestServices.GetRequiredService<ConfigSync>().PublishAsync();
        return result;
    }

    /// <summary>The role and audit actor of a Bearer key: the master key is an admin.</summary>
    private static (string Role, string Actor, IResult? Error) FromBearer(HttpContext http, ReadOnlySpan<char> presented)
    {
        var keys = http.RequestServices.GetRequiredService<KeyService>();
        if (presented.IsEmpty)
        {
            return ("", "", Error(GatewayError.MissingApiKey));
        }

        return keys.IsMasterKey(presented) ? (VirtualKey.AdminRole, "master", null)
            : keys.Authenticate(presented) is { } key ? (key.Role, "key:" + key.Id, null)
            : ("", "", Error(GatewayError.InvalidApiKey));
    }

    /// <summary>The admin collection and object id a path names: <c>/admin/keys/key_1/…</c> → (keys, key_1); prices keep provider/model.</summary>
    internal static (string Collection, string Id) Target(PathString path)
    {
        var rest = (path.Value ?? "")["/admin/".Length..];
        var parts = rest.Split('/', 3);
        var id = parts.Length < 2 ? "" : parts[0] == "prices" && parts.Length == 3 ? parts[1] + "/" + parts[2] : parts[1];
        return (parts[0], id);
    }

    /// <summary>Adds <c>"managed": true</c> to objects that come from the configuration file.</summary>
    private static object? MarkManaged(object? result, string collection, ConfigLoader config)
    {
        if (result is not IValueHttpResult { Value: { } value } || result is IStatusCodeHttpResult { StatusCode: >= 400 })
        {
            return result;
        }

        var node = JsonSerializer.SerializeToNode(value, value.GetType(), StoreJson.Options);
        IEnumerable<System.Text.Json.Nodes.JsonNode?> items = node is System.Text.Json.Nodes.JsonArray array ? array : [node];
        foreach (var item in items.OfType<System.Text.Json.Nodes.JsonObject>())
        {
            var id = item["id"]?.ToString() ?? item["name"]?.ToString() ?? (item["provider"] is { } p && item["model"] is { } m ? p + "/" + m : null);
            if (id is not null && config.IsManaged(collection, id))
            {
                item["managed"] = true;
            }
        }

        return Results.Json(node, StoreJson.Options);
    }

    private static async Task<IResult> CreateProviderAsync(HttpRequest http, ProviderRegistry registry)
    {
        var (request, error) = await ReadAsync<ProviderRequest>(http);
        if (request is null)
        {
            return error!;
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Contains('/', StringComparison.Ordinal))
        {
            return Invalid("'name' is required and may not contain '/'.", "name");
        }

        if (ProviderKinds.Parse(request.Kind) is not { } kind)
        {
            return Invalid("'kind' must be one of openai, anthropic, openai_compatible, azure_openai.", "kind");
        }

        var baseUrl = request.BaseUrl ?? kind.DefaultBaseUrl();
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return Invalid("'base_url' must be an absolute http(s) URL.", "base_url");
        }

        var provider = registry.Upsert(request.Name, kind, baseUrl, string.IsNullOrEmpty(request.ApiKey) ? null : request.ApiKey, request.Models ?? []);
        return Results.Json(ProviderView.From(provider), StoreJson.Options, statusCode: 201);
    }

    private static async Task<IResult> SetPriceAsync(string provider, string model, HttpRequest http, PriceCatalog catalog)
    {
        var (request, error) = await ReadAsync<PriceRequest>(http);
        if (request is null)
        {
            return error!;
        }

        if (request.InputPerMtok is not { } input || request.OutputPerMtok is not { } output || input < 0 || output < 0
            || request.CachedInputPerMtok < 0 || request.CacheWritePerMtok < 0)
        {
            return Invalid("'input_per_mtok' and 'output_per_mtok' are required; prices may not be negative.");
        }

        var price = new ModelPrice(input, request.CachedInputPerMtok ?? input, request.CacheWritePerMtok ?? input, output, request.Currency ?? PriceCatalog.DefaultCurrency);
        catalog.Set(provider, model, price);
        return Json(PriceView.From(provider, model, price, builtIn: false));
    }

    private static async Task<IResult> CreateKeyAsync(HttpRequest http, KeyService keys, TimeProvider time, Governance.GovernanceStore governance)
    {
        var (request, error) = await ReadAsync<KeyRequest>(http);
        if (request is null)
        {
            return error!;
        }

        if (string.IsNullOrWhiteSpace(request.Name))
        {
            return Invalid("'name' is required.", "name");
        }

        if (ValidateGovernance(request, governance) is { } invalidGovernance)
        {
            return invalidGovernance;
        }

        var role = request.Role ?? VirtualKey.AppRole;
        if (role is not (VirtualKey.AppRole or VirtualKey.ViewerRole or VirtualKey.AdminRole))
        {
            return Invalid("'role' must be app, viewer or admin.", "role");
        }

        var (key, secret) = keys.Create(request.Name, role, request.Owner ?? KeyOwner.None, request.Models ?? [], request.ExpiresAt, limits: request.Limits, budget: request.Budget, plan: request.Plan);
        return Results.Json(KeyView.From(key, time.GetUtcNow(), secret), StoreJson.Options, statusCode: 201);
    }

    private static async Task<IResult> PatchKeyAsync(string id, HttpRequest http, KeyService keys, TimeProvider time, Governance.CounterRebuilder rebuilder, Governance.GovernanceStore governance)
    {
        if (keys.Get(id) is not { } key)
        {
            return NotFound($"No key with id '{id}'.");
        }

        var (request, error) = await ReadAsync<KeyRequest>(http);
        if (request is null)
        {
            return error!;
        }

        if (ValidateGovernance(request, governance) is { } invalidGovernance)
        {
            return invalidGovernance;
        }

        if (request.Role is { } role && role is not (VirtualKey.AppRole or VirtualKey.ViewerRole or VirtualKey.AdminRole))
        {
            return Invalid("'role' must be app, viewer or admin.", "role");
        }

        var updated = key with
        {
            Name = string.IsNullOrWhiteSpace(request.Name) ? key.Name : request.Name,
            Role = request.Role ?? key.Role,
            Owner = request.Owner ?? key.Owner,
            Models = request.Models ?? key.Models,
            ExpiresAt = request.ExpiresAt ?? key.ExpiresAt,
            Limits = request.Limits ?? key.Limits,
            Budget = request.Budget ?? key.Budget,
            Plan = request.Plan ?? key.Plan,
        };
        keys.Update(updated);
        if (request.Budget is { } budget && (budget.Period != key.Budget?.Period || budget.Zone != key.Budget?.Zone))
        {
            await rebuilder.RebuildBudgetAsync("key", key.Id, budget, time.GetUtcNow());
        }

        return Json(KeyView.From(updated, time.GetUtcNow()));
    }

    /// <summary>Checks the governance fields of a key: limits, budget, and that its plan exists.</summary>
    private static IResult? ValidateGovernance(KeyRequest request, Governance.GovernanceStore governance) =>
        request.Plan is { } plan && !governance.Current.Plans.ContainsKey(plan) ? Invalid($"No plan named '{plan}'.", "plan")
        : GovernanceEndpoints.Validate(request.Limits) ?? GovernanceEndpoints.Validate(request.Budget, allowTotal: true);

    private static async Task<IResult> UsageAsync(HttpRequest http, UsageQuery query, TimeProvider time)
    {
        var (from, to, rangeError) = TimeRange(http, time);
        if (rangeError is not null)
        {
            return rangeError;
        }

        var groupBy = http.Query["group_by"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (groupBy.FirstOrDefault(g => !UsageQuery.Dimensions.Contains(g)) is { } unknown)
        {
            return Invalid($"Unknown group_by '{unknown}'. Use any of: {string.Join(", ", UsageQuery.Dimensions.Order(StringComparer.Ordinal))}.", "group_by");
        }

        // Any dimension but day and month filters when given (?key=<id>, ?team=ml); other parameters are ignored, as ever.
        var filters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dimension in UsageQuery.Filters)
        {
            if (http.Query[dimension] is { Count: > 0 } values && values.ToString() is { Length: > 0 })
            {
                if (values.Count > 1)
                {
                    return Invalid($"Give '{dimension}' once.", dimension);
                }

                filters[dimension] = values[0]!;
            }
        }

        if (Reports.ReportEndpoints.Format(http) is not { } format)
        {
            return Invalid("'format' must be json or csv.", "format");
        }

        var zoneName = http.Query["time_zone"].ToString() is { Length: > 0 } z ? z : "UTC";
        if (Governance.Periods.FindZone(zoneName) is not { } zone)
        {
            return Invalid($"Unknown time zone '{zoneName}'.", "time_zone");
        }

        var groups = groupBy.Distinct(StringComparer.Ordinal).ToArray();
        return Reports.ReportEndpoints.Respond(await query.RunAsync(from, to, groups, filters, zone, http.HttpContext.RequestAborted), groups, UsageQuery.Figures, format);
    }

    internal static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest http)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(http.Body, StoreJson.Options, http.HttpContext.RequestAborted);
            return value is null ? (null, Invalid("A JSON object is required.")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Invalid("The request body is not valid JSON for this endpoint: " + e.Message));
        }
    }

    internal static IResult Json(object value) => Results.Json(value, StoreJson.Options);

    internal static IResult Invalid(string message, string? param = null) => Error(GatewayError.InvalidRequest(message, param));

    internal static IResult NotFound(string message) => Error(new GatewayError(404, "not_found", message));

    internal static IResult Error(GatewayError error) => new ErrorResult(error);

    private sealed class ErrorResult(GatewayError error) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => ErrorWriter.WriteResponseAsync(httpContext, ErrorShape.OpenAi, error);
    }
}

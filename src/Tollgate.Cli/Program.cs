using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tollgate.Cli;
using Tollgate.Gateway.Storage;

// tollgate: the admin API from a terminal. Every command talks HTTP to a running gateway (--url, --key or
// TOLLGATE_URL, TOLLGATE_ADMIN_KEY); --json prints the API's own JSON instead of a table.
var url = new Option<string>("--url")
{
    Description = "Gateway base URL (default: $TOLLGATE_URL or http://127.0.0.1:8080)",
    Recursive = true,
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TOLLGATE_URL") ?? "http://127.0.0.1:8080",
};
// No DefaultValueFactory here: --help prints defaults, and this one is a secret.
var key = new Option<string?>("--key") { Description = "Admin key (default: $TOLLGATE_ADMIN_KEY, then $TOLLGATE_MASTER_KEY)", Recursive = true };
var json = new Option<bool>("--json") { Description = "Print the admin API's JSON instead of a table", Recursive = true };
// The gateway's escaping (JsonOutput), so --json prints what the API sent: "+00:00", not "\u002B00:00".
var indented = new JsonSerializerOptions { WriteIndented = true, Encoder = JsonOutput.Encoder };
var compact = new JsonSerializerOptions { Encoder = JsonOutput.Encoder };
var root = new RootCommand("Tollgate admin CLI: keys, quota rules, budgets, routes, cache policies and the cache, usage and chargeback reports, FOCUS export.") { url, key, json };

Command Cmd(string name, string description, params Symbol[] symbols)
{
    var command = new Command(name, description);
    foreach (var symbol in symbols)
    {
        switch (symbol)
        {
            case Option option: command.Options.Add(option); break;
            case Argument argument: command.Arguments.Add(argument); break;
            case Command sub: command.Subcommands.Add(sub); break;
        }
    }

    return command;
}

// Runs one command: a client for --url/--key, errors as a message and an exit code (1: the API said no, 2: unreachable).
void Act(Command command, Func<ParseResult, AdminClient, CancellationToken, Task> body) => command.SetAction(async (result, cancel) =>
{
    var secret = result.GetValue(key) ?? Environment.GetEnvironmentVariable("TOLLGATE_ADMIN_KEY") ?? Environment.GetEnvironmentVariable("TOLLGATE_MASTER_KEY");
    using var client = new AdminClient(result.GetValue(url)!, secret);
    try
    {
        await body(result, client, cancel);
        return 0;
    }
    catch (AdminException e)
    {
        Console.Error.WriteLine($"error: {e.Code}: {e.Message}");
        return 1;
    }
    catch (HttpRequestException e)
    {
        Console.Error.WriteLine($"error: cannot reach the gateway at {result.GetValue(url)}: {e.Message}");
        return 2;
    }
});

// A "delete" subcommand: DELETE <path><id>, then names what went.
Command Deleting(string description, Argument<string> id, string path)
{
    var command = Cmd("delete", description, id);
    Act(command, async (r, api, cancel) =>
    {
        await api.SendAsync(HttpMethod.Delete, path + Uri.EscapeDataString(r.GetValue(id)!), null, cancel);
        AnsiConsole.MarkupLine($"[green]deleted[/] {Markup.Escape(r.GetValue(id)!)}");
    });
    return command;
}

// Prints the API's JSON (--json) or a table of the given columns.
void Show(ParseResult result, JsonNode? node, params (string Header, Func<JsonNode, string?> Cell)[] columns)
{
    if (result.GetValue(json) || node is null)
    {
        Console.WriteLine(node?.ToJsonString(indented) ?? "");
        return;
    }

    var rows = node is JsonArray array ? array.OfType<JsonNode>().ToList() : [node];
    var table = new Table().Border(TableBorder.Rounded);
    foreach (var (header, _) in columns)
    {
        // The first column is the row's name or id: kept whole, so that it can be copied from a narrow terminal.
        table.AddColumn(table.Columns.Count == 0 ? new TableColumn(header).NoWrap() : new TableColumn(header));
    }

    foreach (var row in rows)
    {
        table.AddRow(columns.Select(c => Markup.Escape(c.Cell(row) ?? "")).ToArray());
    }

    AnsiConsole.Write(table);
}

static string? S(JsonNode row, string name) => row[name] switch
{
    null => null,
    JsonArray array => string.Join(", ", array.Select(v => v?.ToString())),
    JsonObject obj => string.Join(", ", obj.Where(p => p.Value is not null).Select(p => $"{p.Key}={p.Value}")),
    var value => value.ToString(),
};

static string Query(params (string Name, string? Value)[] parts) =>
    string.Join('&', parts.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)));

// ── keys ──────────────────────────────────────────────────────────────────────────────────────────────────────────
var keyName = new Option<string>("--name") { Description = "Key name", Required = true };
var owner = new[] { "user", "team", "project", "cost-center", "customer", "feature" }.Select(f => new Option<string?>("--" + f) { Description = $"Owner {f}" }).ToArray();
var keyModels = new Option<string[]>("--model") { Description = "Allowed model (repeat; default: all)" };
var rpm = new Option<long?>("--rpm") { Description = "Requests per minute" };
var tpm = new Option<long?>("--tpm") { Description = "Tokens per minute" };
var budgetPeriod = new Option<string>("--budget-period") { Description = "Key budget period: day, week, month, total", DefaultValueFactory = _ => "month" };
var budgetHard = new Option<decimal?>("--budget") { Description = "Key hard budget (rejects beyond it)" };
var keyPlan = new Option<string?>("--plan") { Description = "Plan name" };
var keyId = new Argument<string>("id") { Description = "Key id" };
var keysCreate = Cmd("create", "Create a virtual key (the secret is shown once)", [keyName, .. owner, keyModels, rpm, tpm, budgetPeriod, budgetHard, keyPlan]);
Act(keysCreate, async (r, api, cancel) =>
{
    var ownerFields = owner.Where(o => r.GetValue(o) is not null).ToDictionary(o => o.Name[2..].Replace('-', '_'), o => r.GetValue(o));
    var body = new Dictionary<string, object?> { ["name"] = r.GetValue(keyName), ["owner"] = ownerFields };
    if (r.GetValue(keyModels) is { Length: > 0 } models)
    {
        body["models"] = models;
    }

    if (r.GetValue(rpm) is not null || r.GetValue(tpm) is not null)
    {
        body["limits"] = new { rpm = r.GetValue(rpm), tpm = r.GetValue(tpm) };
    }

    if (r.GetValue(budgetHard) is { } hard)
    {
        body["budget"] = new { period = r.GetValue(budgetPeriod), hard };
    }

    if (r.GetValue(keyPlan) is { } plan)
    {
        body["plan"] = plan;
    }

    var created = await api.SendAsync(HttpMethod.Post, "/admin/keys", body, cancel);
    Show(r, created, ("id", k => S(k, "id")), ("name", k => S(k, "name")), ("key (shown once)", k => S(k, "key")), ("owner", k => S(k, "owner")));
});
var keysList = Cmd("list", "List virtual keys");
Act(keysList, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/keys", cancel),
    ("id", k => S(k, "id")), ("name", k => S(k, "name")), ("prefix", k => S(k, "prefix")), ("owner", k => S(k, "owner")),
    ("active", k => S(k, "active")), ("plan", k => S(k, "plan")), ("created", k => S(k, "created_at"))));
var keysRevoke = Cmd("revoke", "Revoke a virtual key", keyId);
Act(keysRevoke, async (r, api, cancel) => Show(r, await api.SendAsync(HttpMethod.Delete, "/admin/keys/" + Uri.EscapeDataString(r.GetValue(keyId)!), null, cancel),
    ("id", k => S(k, "id")), ("name", k => S(k, "name")), ("active", k => S(k, "active")), ("revoked", k => S(k, "revoked_at"))));
root.Subcommands.Add(Cmd("keys", "Virtual keys", keysCreate, keysList, keysRevoke));

// ── quota rules ───────────────────────────────────────────────────────────────────────────────────────────────────
var ruleId = new Argument<string>("id") { Description = "Quota rule id" };
(string, Func<JsonNode, string?>)[] ruleColumns =
[
    ("id", q => S(q, "id")), ("name", q => S(q, "name")), ("limit tokens", q => S(q, "limit_tokens")), ("cycle", q => S(q, "cycle")),
    ("time zone", q => S(q, "time_zone")), ("consumers", q => S(q, "consumers")), ("enabled", q => S(q, "enabled")),
];
Option<string?> ruleName(bool required) => new("--name") { Description = "Rule name", Required = required };
Option<long?> ruleLimit(bool required) => new("--limit-tokens") { Description = "Tokens per cycle", Required = required };
var cycle = new Option<string?>("--cycle") { Description = "day, week or month (natural cycles in the time zone)" };
var zone = new Option<string?>("--time-zone") { Description = "IANA time zone of the cycle, e.g. Asia/Shanghai" };
var consumers = new Option<string[]>("--consumer") { Description = "key:<id>, team:<name>, user:<id> or project:<id> (repeat)" };
var createName = ruleName(true);
var createLimit = ruleLimit(true);
var rulesCreate = Cmd("create", "Create a quota rule", createName, createLimit, cycle, zone, consumers);
Act(rulesCreate, async (r, api, cancel) => Show(r, await api.SendAsync(HttpMethod.Post, "/admin/quota-rules", new
{
    name = r.GetValue(createName),
    limit_tokens = r.GetValue(createLimit),
    cycle = r.GetValue(cycle) ?? "month",
    time_zone = r.GetValue(zone) ?? "UTC",
    consumers = r.GetValue(consumers) ?? [],
}, cancel), ruleColumns));
var editName = ruleName(false);
var editLimit = ruleLimit(false);
var rulesEdit = Cmd("edit", "Change a quota rule (only the options given)", ruleId, editName, editLimit, cycle, zone, consumers);
Act(rulesEdit, async (r, api, cancel) =>
{
    var patch = new Dictionary<string, object?>();
    void Set(string field, object? value)
    {
        if (value is not null && value is not string[] { Length: 0 })
        {
            patch[field] = value;
        }
    }

    Set("name", r.GetValue(editName));
    Set("limit_tokens", r.GetValue(editLimit));
    Set("cycle", r.GetValue(cycle));
    Set("time_zone", r.GetValue(zone));
    Set("consumers", r.GetValue(consumers));
    Show(r, await api.SendAsync(HttpMethod.Patch, "/admin/quota-rules/" + Uri.EscapeDataString(r.GetValue(ruleId)!), patch, cancel), ruleColumns);
});
var rulesList = Cmd("list", "List quota rules");
Act(rulesList, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/quota-rules", cancel), ruleColumns));
var ruleCommands = new List<Command> { rulesCreate, rulesList, rulesEdit };
foreach (var (verb, description, method) in new[] { ("enable", "Enable a quota rule", HttpMethod.Post), ("disable", "Disable a quota rule", HttpMethod.Post), ("reset", "Zero the current cycle of a quota rule", HttpMethod.Post), ("delete", "Delete a quota rule", HttpMethod.Delete) })
{
    var command = Cmd(verb, description, ruleId);
    Act(command, async (r, api, cancel) =>
    {
        var path = "/admin/quota-rules/" + Uri.EscapeDataString(r.GetValue(ruleId)!) + (verb == "delete" ? "" : "/" + verb);
        var answer = await api.SendAsync(method, path, null, cancel);
        if (answer is null && !r.GetValue(json))
        {
            AnsiConsole.MarkupLine($"[green]{verb}d[/] {Markup.Escape(r.GetValue(ruleId)!)}");
            return;
        }

        Show(r, answer, ruleColumns);
    });
    ruleCommands.Add(command);
}

var rulesUsage = Cmd("usage", "Current cycle of a quota rule, per consumer", ruleId);
Act(rulesUsage, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/quota-rules/" + Uri.EscapeDataString(r.GetValue(ruleId)!) + "/usage", cancel),
    ("consumer", u => S(u, "consumer")), ("used", u => S(u, "used_tokens")), ("remaining", u => S(u, "remaining_tokens")), ("limit", u => S(u, "limit_tokens")),
    ("input", u => S(u, "input_tokens")), ("output", u => S(u, "output_tokens")), ("cycle start", u => S(u, "cycle_start")), ("cycle end", u => S(u, "cycle_end"))));
ruleCommands.Add(rulesUsage);
root.Subcommands.Add(Cmd("quota-rules", "Token quotas on natural cycles", [.. ruleCommands]));

// ── budgets ───────────────────────────────────────────────────────────────────────────────────────────────────────
(string, Func<JsonNode, string?>)[] budgetColumns =
[
    ("id", b => S(b, "id")), ("scope", b => S(b, "scope")), ("subject", b => S(b, "subject")), ("period", b => S(b, "period")),
    ("soft", b => S(b, "soft")), ("hard", b => S(b, "hard")), ("spent", b => S(b, "spent")), ("remaining", b => S(b, "remaining")),
];
var scope = new Option<string>("--scope") { Description = "team, project, user, cost_center or customer", Required = true };
var subject = new Option<string>("--subject") { Description = "The team, project, … it applies to", Required = true };
var period = new Option<string>("--period") { Description = "day, week, month or total", DefaultValueFactory = _ => "month" };
var soft = new Option<decimal?>("--soft") { Description = "Soft limit (alerts)" };
var hard = new Option<decimal?>("--hard") { Description = "Hard limit (rejects)" };
var budgetId = new Argument<string>("id") { Description = "Budget id" };
var budgetsCreate = Cmd("create", "Create a group budget", scope, subject, period, soft, hard, zone);
Act(budgetsCreate, async (r, api, cancel) => Show(r, await api.SendAsync(HttpMethod.Post, "/admin/budgets", new
{
    scope = r.GetValue(scope),
    subject = r.GetValue(subject),
    period = r.GetValue(period),
    soft = r.GetValue(soft),
    hard = r.GetValue(hard),
    time_zone = r.GetValue(zone),
}, cancel), budgetColumns));
var budgetsList = Cmd("list", "List group budgets with their spend this period");
Act(budgetsList, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/budgets", cancel), budgetColumns));
var budgetsDelete = Deleting("Delete a group budget", budgetId, "/admin/budgets/");
root.Subcommands.Add(Cmd("budgets", "Soft and hard budgets of teams, projects, users, cost centers, customers", budgetsCreate, budgetsList, budgetsDelete));

// A --file's JSON object (- reads standard input); none: an empty object.
static async Task<JsonObject> ReadObject(string? file, CancellationToken cancel)
{
    if (file is null)
    {
        return [];
    }

    try
    {
        return JsonNode.Parse(file == "-" ? await Console.In.ReadToEndAsync(cancel) : await File.ReadAllTextAsync(file, cancel)) as JsonObject
            ?? throw new JsonException("not a JSON object");
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
    {
        throw new AdminException(0, "invalid_file", $"{file}: {e.Message}");
    }
}

// ── routes ────────────────────────────────────────────────────────────────────────────────────────────────────────
static string? Targets(JsonNode route) => route["targets"] is JsonArray targets
    ? string.Join(", ", targets.OfType<JsonNode>().Select(t => $"{t["model"]}×{t["weight"]}"))
    : null;
(string, Func<JsonNode, string?>)[] routeColumns =
[
    ("name", r => S(r, "name")), ("targets (model×weight)", Targets), ("rules", r => (r["rules"] as JsonArray)?.Count.ToString(CultureInfo.InvariantCulture)),
    ("downgrade", r => r["downgrade"] is { } d ? $"{d["model"]} at {d["at"]}" : null), ("fallbacks", r => S(r, "fallbacks")),
];
var routeName = new Argument<string>("name") { Description = "Route name" };
var routeFile = new Option<string?>("--file", "-f") { Description = "JSON file with the route's fields, as POST /admin/routes takes them (- reads standard input)" };
var routeNewName = new Option<string?>("--name") { Description = "Route name (the model name clients send)" };
var routeTargets = new Option<string[]>("--target") { Description = "Target provider/model, optionally =weight (repeat; default weight 1)" };
var routeFallbacks = new Option<string[]>("--fallback") { Description = "Fallback provider/model, in order (repeat)" };

// The body of a create or edit: the --file's JSON, with --name, --target and --fallback laid over it.
async Task<JsonObject> RouteBody(ParseResult r, CancellationToken cancel)
{
    var body = await ReadObject(r.GetValue(routeFile), cancel);

    if (r.GetValue(routeNewName) is { } name)
    {
        body["name"] = name;
    }

    if (r.GetValue(routeTargets) is { Length: > 0 } targets)
    {
        body["targets"] = new JsonArray([.. targets.Select(t =>
        {
            var equals = t.LastIndexOf('=');
            return (JsonNode)(equals > 0 && int.TryParse(t.AsSpan(equals + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var weight)
                ? new JsonObject { ["model"] = t[..equals], ["weight"] = weight }
                : new JsonObject { ["model"] = t });
        })]);
    }

    if (r.GetValue(routeFallbacks) is { Length: > 0 } fallbacks)
    {
        body["fallbacks"] = new JsonArray([.. fallbacks.Select(f => (JsonNode)JsonValue.Create(f))]);
    }

    return body;
}

var routesList = Cmd("list", "List routes");
Act(routesList, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/routes", cancel), routeColumns));
var routesGet = Cmd("get", "Show one route", routeName);
Act(routesGet, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/routes/" + Uri.EscapeDataString(r.GetValue(routeName)!), cancel), routeColumns));
var routesCreate = Cmd("create", "Create a route from --file, or from --name, --target and --fallback", routeFile, routeNewName, routeTargets, routeFallbacks);
routesCreate.Validators.Add(c =>
{
    if (c.GetValue(routeFile) is null && c.GetValue(routeNewName) is null)
    {
        c.AddError("Give --file route.json, or --name and at least one --target.");
    }
});
Act(routesCreate, async (r, api, cancel) => Show(r, await api.SendAsync(HttpMethod.Post, "/admin/routes", await RouteBody(r, cancel), cancel), routeColumns));
var routesEdit = Cmd("edit", "Change a route: only the fields --file, --target and --fallback give", routeName, routeFile, routeTargets, routeFallbacks);
Act(routesEdit, async (r, api, cancel) =>
    Show(r, await api.SendAsync(HttpMethod.Patch, "/admin/routes/" + Uri.EscapeDataString(r.GetValue(routeName)!), await RouteBody(r, cancel), cancel), routeColumns));
var routesDelete = Deleting("Delete a route", routeName, "/admin/routes/");
root.Subcommands.Add(Cmd("routes", "Routes: model names that pick targets by rule and weight, with downgrade, fallbacks and retries", routesList, routesGet, routesCreate, routesEdit, routesDelete));

// ── reports ───────────────────────────────────────────────────────────────────────────────────────────────────────
var from = new Option<string?>("--from") { Description = "Start (ISO 8601, inclusive)" };
var to = new Option<string?>("--to") { Description = "End (ISO 8601, exclusive; default: now)" };
var groupBy = new Option<string?>("--group-by") { Description = "Comma list: team, project, user, cost_center, customer, feature, model, provider, key, day, month, …" };
(string, Func<JsonNode, string?>)[] Figures(string? groups) =>
[
    .. (groups ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(g => (g, (Func<JsonNode, string?>)(u => S(u, g)))),
    ("requests", u => S(u, "requests")), ("input", u => S(u, "input_tokens")), ("cached", u => S(u, "cached_tokens")), ("output", u => S(u, "output_tokens")), ("cost", u => S(u, "cost")),
];
var usage = Cmd("usage", "Usage and cost from the ledger", from, to, groupBy);
Act(usage, async (r, api, cancel) => Show(r,
    await api.GetAsync("/admin/usage?" + Query(("from", r.GetValue(from)), ("to", r.GetValue(to)), ("group_by", r.GetValue(groupBy))), cancel),
    Figures(r.GetValue(groupBy))));
root.Subcommands.Add(usage);

var month = new Option<string>("--month") { Description = "YYYY-MM (default: this month)", DefaultValueFactory = _ => DateTime.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture) };
var by = new Option<string>("--by") { Description = "team, project, cost_center, user, customer or feature", DefaultValueFactory = _ => "team" };
var csv = new Option<bool>("--csv") { Description = "Print CSV (for spreadsheets)" };
var chargeback = Cmd("chargeback", "The monthly bill per team, project, cost center, user, customer or feature", month, by, zone, csv);
Act(chargeback, async (r, api, cancel) =>
{
    var path = "/admin/reports/chargeback?" + Query(("month", r.GetValue(month)), ("by", r.GetValue(by)), ("time_zone", r.GetValue(zone)));
    if (r.GetValue(csv))
    {
        Console.Write(await api.GetTextAsync(path + "&format=csv", cancel));
        return;
    }

    var group = r.GetValue(by)!;
    Show(r, await api.GetAsync(path, cancel), (group, b => S(b, group) ?? "(none)"), ("requests", b => S(b, "requests")), ("input", b => S(b, "input_tokens")),
        ("cached", b => S(b, "cached_tokens")), ("output", b => S(b, "output_tokens")), ("cost", b => S(b, "cost")), ("cost/request", b => S(b, "cost_per_request")));
});
root.Subcommands.Add(Cmd("reports", "Finance reports", chargeback));

// ── cache ─────────────────────────────────────────────────────────────────────────────────────────────────────────
// What a policy turns on: exact, semantic (with its threshold), embeddings, the provider prompt-caching switches.
static string Caching(JsonNode p) => string.Join(", ", new[]
{
    p["exact"]?.GetValueKind() == JsonValueKind.True ? "exact" : null,
    p["semantic"]?["enabled"]?.GetValueKind() == JsonValueKind.True ? $"semantic ≥ {p["semantic"]?["threshold"]}" : null,
    p["embeddings"]?.GetValueKind() == JsonValueKind.True ? "embeddings" : null,
    p["prompt_caching"]?["anthropic_auto"]?.GetValueKind() == JsonValueKind.True ? "anthropic_auto" : null,
    p["prompt_caching"]?["openai_cache_key"]?.GetValueKind() == JsonValueKind.True ? "openai_cache_key" : null,
}.OfType<string>());
(string, Func<JsonNode, string?>)[] policyColumns =
[
    ("id", p => S(p, "id")), ("covers", p => S(p, "scope") + (S(p, "subject") is { } subject ? ":" + subject : "")), ("ttl (s)", p => S(p, "ttl_seconds")),
    ("share", p => S(p, "share")), ("models", p => p["models"] is JsonArray { Count: 0 } ? "(all)" : S(p, "models")), ("caching", Caching),
];
var policyId = new Argument<string>("id") { Description = "Cache policy id (cp_…)" };
var policyFile = new Option<string?>("--file", "-f") { Description = "JSON file with the policy's fields, as POST /admin/cache-policies takes them (- reads standard input)" };
var policyScope = new Option<string?>("--scope") { Description = "What the policy covers: global, key, team, project or plan" };
var policySubject = new Option<string?>("--subject") { Description = "The key id, team, project or plan it covers (none for global)" };
var policyTtl = new Option<int?>("--ttl") { Description = "Seconds an entry lives (default 3600)" };
var policyShare = new Option<string?>("--share") { Description = "Namespace entries live in: key, team or global (default key)" };
var policyModels = new Option<string[]>("--model") { Description = "Model it applies to: provider/model, provider/* or a route (repeat; default: all)" };
var policyExact = new Option<bool?>("--exact") { Description = "Exact-match caching on or off (true|false; default on)" };
var policyNoExact = new Option<bool>("--no-exact") { Description = "Exact-match caching off (same as --exact false)" };
var policySemantic = new Option<bool?>("--semantic") { Description = "Semantic caching on or off (true|false)" };
var policyThreshold = new Option<double?>("--semantic-threshold") { Description = "Similarity a semantic hit needs, in (0, 1] (default 0.95)" };
var policyEmbeddings = new Option<bool?>("--embeddings") { Description = "Cache /v1/embeddings inputs one by one (true|false; default on)" };
var policyNoEmbeddings = new Option<bool>("--no-embeddings") { Description = "Do not cache embeddings (same as --embeddings false)" };
var policyAnthropicAuto = new Option<bool?>("--anthropic-auto") { Description = "Add Anthropic cache_control breakpoints (true|false; default off)" };
var policyOpenAiKey = new Option<bool?>("--openai-cache-key") { Description = "Set OpenAI's prompt_cache_key from the namespace (true|false; default off)" };
Symbol[] policyOptions = [policyFile, policyScope, policySubject, policyTtl, policyShare, policyModels, policyExact, policyNoExact, policySemantic, policyThreshold,
    policyEmbeddings, policyNoEmbeddings, policyAnthropicAuto, policyOpenAiKey];

void NoContradiction(System.CommandLine.Parsing.CommandResult c)
{
    foreach (var (on, off) in new[] { (policyExact, policyNoExact), (policyEmbeddings, policyNoEmbeddings) })
    {
        if (c.GetValue(on) is not null && c.GetValue(off))
        {
            c.AddError($"Give {on.Name} or {off.Name}, not both.");
        }
    }
}

// The body of a create or edit: the --file's JSON, with the options given laid over it (nested fields one by one).
async Task<JsonObject> PolicyBody(ParseResult r, CancellationToken cancel)
{
    var body = await ReadObject(r.GetValue(policyFile), cancel);
    JsonObject Nested(string name) => body[name] as JsonObject ?? (JsonObject)(body[name] = new JsonObject());
    void Set(string field, JsonNode? value)
    {
        if (value is not null)
        {
            body[field] = value;
        }
    }

    Set("scope", r.GetValue(policyScope));
    Set("subject", r.GetValue(policySubject));
    Set("ttl_seconds", r.GetValue(policyTtl));
    Set("share", r.GetValue(policyShare));
    if (r.GetValue(policyModels) is { Length: > 0 } models)
    {
        body["models"] = new JsonArray([.. models.Select(m => (JsonNode)JsonValue.Create(m))]);
    }

    Set("exact", r.GetValue(policyNoExact) ? false : r.GetValue(policyExact));
    Set("embeddings", r.GetValue(policyNoEmbeddings) ? false : r.GetValue(policyEmbeddings));
    if (r.GetValue(policySemantic) is { } semantic)
    {
        Nested("semantic")["enabled"] = semantic;
    }

    if (r.GetValue(policyThreshold) is { } threshold)
    {
        Nested("semantic")["threshold"] = threshold;
    }

    if (r.GetValue(policyAnthropicAuto) is { } anthropicAuto)
    {
        Nested("prompt_caching")["anthropic_auto"] = anthropicAuto;
    }

    if (r.GetValue(policyOpenAiKey) is { } openAiKey)
    {
        Nested("prompt_caching")["openai_cache_key"] = openAiKey;
    }

    return body;
}

var policiesList = Cmd("list", "List cache policies");
Act(policiesList, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/cache-policies", cancel), policyColumns));
var policiesGet = Cmd("get", "Show one cache policy", policyId);
Act(policiesGet, async (r, api, cancel) => Show(r, await api.GetAsync("/admin/cache-policies/" + Uri.EscapeDataString(r.GetValue(policyId)!), cancel), policyColumns));
var policiesCreate = Cmd("create", "Create a cache policy from --file, or from --scope, --subject and the other options", policyOptions);
policiesCreate.Validators.Add(c =>
{
    // Without a scope the API makes a global policy, which caches every key's calls: that must be asked for.
    if (c.GetValue(policyFile) is null && c.GetValue(policyScope) is null)
    {
        c.AddError("Give --file policy.json, or --scope (global, key, team, project or plan) and its --subject.");
    }

    NoContradiction(c);
});
Act(policiesCreate, async (r, api, cancel) => Show(r, await api.SendAsync(HttpMethod.Post, "/admin/cache-policies", await PolicyBody(r, cancel), cancel), policyColumns));
var policiesEdit = Cmd("edit", "Change a cache policy: only the fields --file and the options give", [policyId, .. policyOptions]);
policiesEdit.Validators.Add(NoContradiction);
Act(policiesEdit, async (r, api, cancel) =>
    Show(r, await api.SendAsync(HttpMethod.Patch, "/admin/cache-policies/" + Uri.EscapeDataString(r.GetValue(policyId)!), await PolicyBody(r, cancel), cancel), policyColumns));
var policiesDelete = Deleting("Delete a cache policy (its entries stay until they expire or are purged)", policyId, "/admin/cache-policies/");
root.Subcommands.Add(Cmd("cache-policies", "Response cache policies: who gets cached, how long, in which namespace", policiesList, policiesGet, policiesCreate, policiesEdit, policiesDelete));

var stats = Cmd("stats", "Cache hits, misses and savings of a time range (default: everything), and what the cache holds now", from, to);
Act(stats, async (r, api, cancel) =>
{
    var answer = await api.GetAsync("/admin/cache/stats?" + Query(("from", r.GetValue(from)), ("to", r.GetValue(to))), cancel);
    if (r.GetValue(json) || answer is not JsonObject figures)
    {
        Show(r, answer);
        return;
    }

    // One object: a row per figure reads better than nine narrow columns.
    string? Figure(string name) => name == "hit_rate" && figures[name] is { } rate ? rate.GetValue<double>().ToString("P1", CultureInfo.InvariantCulture) : S(figures, name);
    var rows = new JsonArray([.. new[] { "requests", "exact_hits", "semantic_hits", "misses", "hit_rate", "cache_savings", "provider_cache_savings", "entries", "bytes" }
        .Select(name => (JsonNode)new JsonObject { ["figure"] = name.Replace('_', ' '), ["value"] = Figure(name) })]);
    Show(r, rows, ("figure", f => S(f, "figure")), ("value", f => S(f, "value")));
});
var purgeScope = new Option<string?>("--scope") { Description = "Namespace to purge: key or team (with --subject), or global" };
var purgeSubject = new Option<string?>("--subject") { Description = "The key id or team whose namespace to purge" };
var purgeAll = new Option<bool>("--all") { Description = "Purge every entry of every namespace" };
var purge = Cmd("purge", "Remove cached entries: one namespace (--scope, --subject), or everything (--all)", purgeScope, purgeSubject, purgeAll);
purge.Validators.Add(c =>
{
    var some = c.GetValue(purgeScope) is not null || c.GetValue(purgeSubject) is not null;
    if (some == c.GetValue(purgeAll))
    {
        c.AddError(some
            ? "Give --scope and --subject to purge one namespace, or --all alone to purge everything, not both."
            : "Give --scope key|team --subject <id or team>, or --scope global, to purge one namespace; --all purges everything.");
    }
    else if (some && c.GetValue(purgeScope) is null)
    {
        c.AddError("--subject needs --scope (key or team).");
    }
});
Act(purge, async (r, api, cancel) =>
{
    // No parameters is the API's "everything", which --all stands for; the validator made sure it was asked for.
    var query = Query(("scope", r.GetValue(purgeScope)), ("subject", r.GetValue(purgeSubject)));
    var answer = await api.SendAsync(HttpMethod.Delete, "/admin/cache" + (query.Length > 0 ? "?" + query : ""), null, cancel);
    if (r.GetValue(json))
    {
        Show(r, answer);
        return;
    }

    var what = r.GetValue(purgeAll) ? "every namespace" : r.GetValue(purgeScope) + (r.GetValue(purgeSubject) is { } s ? ":" + s : "");
    AnsiConsole.MarkupLine($"[green]purged[/] {answer?["purged"]} entries from {Markup.Escape(what)}");
});
root.Subcommands.Add(Cmd("cache", "The response cache: statistics and purges", stats, purge));

// ── export ────────────────────────────────────────────────────────────────────────────────────────────────────────
var format = new Option<string>("--format") { Description = "csv or parquet", DefaultValueFactory = _ => "csv" };
format.AcceptOnlyFromAmong("csv", "parquet");
var output = new Option<string>("--output", "-o") { Description = "File to write", Required = true };
var focus = Cmd("focus", "FOCUS 1.2 cost and usage rows to a file", from, to, format, output);
Act(focus, async (r, api, cancel) =>
{
    var path = "/admin/export/focus?" + Query(("from", r.GetValue(from)), ("to", r.GetValue(to)), ("format", r.GetValue(format)));
    var file = r.GetValue(output)!;
    long bytes = 0;
    await AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new ElapsedTimeColumn())
        .StartAsync(async progress =>
        {
            var task = progress.AddTask($"FOCUS {r.GetValue(format)} → {Markup.Escape(file)}", maxValue: 1);
            task.IsIndeterminate = true; // streamed: the size is known only at the end
            bytes = await api.DownloadAsync(path, file, (written, total) =>
            {
                task.MaxValue = total ?? Math.Max(written, 1);
                task.Value = written;
            }, cancel);
            task.IsIndeterminate = false;
            task.MaxValue = Math.Max(bytes, 1);
            task.Value = task.MaxValue;
        });
    if (r.GetValue(json))
    {
        Console.WriteLine(new JsonObject { ["file"] = file, ["bytes"] = bytes }.ToJsonString(compact));
    }
    else
    {
        AnsiConsole.MarkupLine($"[green]wrote[/] {bytes} bytes to {Markup.Escape(file)}");
    }
});
root.Subcommands.Add(Cmd("export", "Exports of the ledger", focus));

return await root.Parse(args).InvokeAsync();

using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Reports;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Admin;

/// <summary>Admin API for quota rules, group budgets and group limits.</summary>
internal static class GovernanceEndpoints
{
    public const string DefaultQuotaTimeZone = "Asia/Shanghai";

    public static void MapGovernance(this RouteGroupBuilder admin)
    {
        admin.MapGet("/quota-rules", (GovernanceStore store) => AdminEndpoints.Json(store.Current.QuotaRules.Select(QuotaView.From)));
        admin.MapPost("/quota-rules", CreateQuotaAsync);
        admin.MapPatch("/quota-rules/{id}", PatchQuotaAsync);
        admin.MapPost("/quota-rules/{id}/enable", (string id, GovernanceStore store) => Toggle(id, true, store));
        admin.MapPost("/quota-rules/{id}/disable", (string id, GovernanceStore store) => Toggle(id, false, store));
        admin.MapPost("/quota-rules/{id}/reset", async (string id, GovernanceStore store, GovernanceStatus status) =>
        {
            if (Find(store, id) is not { } rule)
            {
                return AdminEndpoints.NotFound($"No quota rule with id '{id}'.");
            }

            await status.ResetQuotaAsync(rule);
            return AdminEndpoints.Json(QuotaView.From(rule));
        });
        admin.MapDelete("/quota-rules/{id}", (string id, GovernanceStore store) =>
            store.Delete("quota_rules", id) ? Results.NoContent() : AdminEndpoints.NotFound($"No quota rule with id '{id}'."));
        admin.MapGet("/quota-rules/{id}/usage", async (string id, GovernanceStore store, GovernanceStatus status) =>
        {
            if (Find(store, id) is not { } rule)
            {
                return AdminEndpoints.NotFound($"No quota rule with id '{id}'.");
            }

            var rows = new List<QuotaUsage>();
            foreach (var consumer in rule.Consumers)
            {
                rows.Add(await status.QuotaStatusAsync(rule, consumer));
            }

            return AdminEndpoints.Json(rows);
        });

        admin.MapGet("/budgets", ListBudgetsAsync);
        admin.MapPost("/budgets", CreateBudgetAsync);
        admin.MapPatch("/budgets/{id}", PatchBudgetAsync);
        admin.MapDelete("/budgets/{id}", (string id, GovernanceStore store) =>
            store.Delete("budgets", id) ? Results.NoContent() : AdminEndpoints.NotFound($"No budget with id '{id}'."));

        admin.MapGet("/plans", (GovernanceStore store) => AdminEndpoints.Json(store.Current.Plans.Values.OrderBy(p => p.Name, StringComparer.Ordinal)));
        admin.MapGet("/plans/{name}", (string name, GovernanceStore store) =>
            store.Current.Plans.TryGetValue(name, out var plan) ? AdminEndpoints.Json(plan) : AdminEndpoints.NotFound($"No plan named '{name}'."));
        admin.MapPost("/plans", (HttpRequest http, GovernanceStore store, CounterRebuilder rebuilder, KeyService keys, TimeProvider time) => SavePlanAsync(null, http, store, rebuilder, keys, time));
        admin.MapPatch("/plans/{name}", (string name, HttpRequest http, GovernanceStore store, CounterRebuilder rebuilder, KeyService keys, TimeProvider time) => SavePlanAsync(name, http, store, rebuilder, keys, time));
        admin.MapDelete("/plans/{name}", (string name, GovernanceStore store) =>
            store.Delete("plans", name) ? Results.NoContent() : AdminEndpoints.NotFound($"No plan named '{name}'."));

        admin.MapGet("/limits", (GovernanceStore store) => AdminEndpoints.Json(store.Current.Limits.Select(LimitView.From)));
        admin.MapPost("/limits", CreateLimitAsync);
        admin.MapPatch("/limits/{id}", PatchLimitAsync);
        admin.MapDelete("/limits/{id}", (string id, GovernanceStore store) =>
            store.Delete("limits", id) ? Results.NoContent() : AdminEndpoints.NotFound($"No limit with id '{id}'."));
    }

    internal static IResult? Validate(KeyLimits? limits)
    {
        if (limits is null)
        {
            return null;
        }

        return limits.Rpm is <= 0 || limits.Tpm is <= 0 || limits.MaxCostPerMinute is <= 0
            ? AdminEndpoints.Invalid("'rpm', 'tpm' and 'max_cost_per_minute' must be positive.", "limits")
            : null;
    }

    internal static IResult? Validate(BudgetSpec? budget, bool allowTotal)
    {
        if (budget is null)
        {
            return null;
        }

        if (!Periods.IsValid(budget.Period, allowTotal))
        {
            return AdminEndpoints.Invalid("'period' must be day, week, month or total.", "period");
        }

        if (Periods.FindZone(budget.Zone) is null)
        {
            return AdminEndpoints.Invalid($"Unknown time zone '{budget.Zone}'; use an IANA name such as Europe/Berlin.", "time_zone");
        }

        if (budget.Soft is < 0 || budget.Hard is < 0 || (budget.Soft is null && budget.Hard is null))
        {
            return AdminEndpoints.Invalid("A budget needs 'soft' or 'hard' (or both), not negative.", "hard");
        }

        return budget.Thresholds is { } t && t.Any(x => x is <= 0 or > 1)
            ? AdminEndpoints.Invalid("'thresholds' are fractions in (0, 1].", "thresholds")
            : null;
    }

    private static QuotaRule? Find(GovernanceStore store, string id) => store.Current.QuotaRules.FirstOrDefault(r => r.Id == id);

    private static IResult Toggle(string id, bool enabled, GovernanceStore store)
    {
        if (Find(store, id) is not { } rule)
        {
            return AdminEndpoints.NotFound($"No quota rule with id '{id}'.");
        }

        var updated = rule with { Enabled = enabled };
        store.Save(updated);
        return AdminEndpoints.Json(QuotaView.From(updated));
    }

    private static async Task<IResult> CreateQuotaAsync(HttpRequest http, GovernanceStore store, CounterRebuilder rebuilder, TimeProvider time)
    {
        var (request, error) = await AdminEndpoints.ReadAsync<QuotaRequest>(http);
        if (request is null)
        {
            return error!;
        }

        var rule = new QuotaRule(KeyHash.NewId("qr_"), request.Name ?? "", request.LimitTokens ?? 0, request.Cycle ?? "", request.TimeZone ?? DefaultQuotaTimeZone,
            request.Consumers ?? [], request.Enabled ?? true, time.GetUtcNow());
        if (Validate(rule) is { } invalid)
        {
            return invalid;
        }

        store.Save(rule);
        await rebuilder.RebuildQuotaAsync(rule, time.GetUtcNow());
        return Results.Json(QuotaView.From(rule), StoreJson.Options, statusCode: 201);
    }

    private static async Task<IResult> PatchQuotaAsync(string id, HttpRequest http, GovernanceStore store, CounterRebuilder rebuilder, TimeProvider time)
    {
        if (Find(store, id) is not { } rule)
        {
            return AdminEndpoints.NotFound($"No quota rule with id '{id}'.");
        }

        var (request, error) = await AdminEndpoints.ReadAsync<QuotaRequest>(http);
        if (request is null)
        {
            return error!;
        }

        var updated = rule with
        {
            Name = request.Name ?? rule.Name,
            LimitTokens = request.LimitTokens ?? rule.LimitTokens,
            Cycle = request.Cycle ?? rule.Cycle,
            TimeZone = request.TimeZone ?? rule.TimeZone,
            Consumers = request.Consumers ?? rule.Consumers,
            Enabled = request.Enabled ?? rule.Enabled,
        };
        if (Validate(updated) is { } invalid)
        {
            return invalid;
        }

        store.Save(updated);
        if (updated.Cycle != rule.Cycle || updated.TimeZone != rule.TimeZone || !updated.Consumers.SequenceEqual(rule.Consumers))
        {
            await rebuilder.RebuildQuotaAsync(updated, time.GetUtcNow());
        }

        return AdminEndpoints.Json(QuotaView.From(updated));
    }

    private static IResult? Validate(QuotaRule rule)
    {
        if (string.IsNullOrWhiteSpace(rule.Name))
        {
            return AdminEndpoints.Invalid("'name' is required.", "name");
        }

        if (rule.LimitTokens <= 0)
        {
            return AdminEndpoints.Invalid("'limit_tokens' must be positive.", "limit_tokens");
        }

        if (!Periods.IsValid(rule.Cycle, allowTotal: false))
        {
            return AdminEndpoints.Invalid("'cycle' must be day, week or month.", "cycle");
        }

        if (Periods.FindZone(rule.TimeZone) is null)
        {
            return AdminEndpoints.Invalid($"Unknown time zone '{rule.TimeZone}'; use an IANA name such as Asia/Shanghai.", "time_zone");
        }

        return rule.Consumers.Count == 0 || rule.Consumers.Any(c => !IsConsumer(c))
            ? AdminEndpoints.Invalid("'consumers' must list key:<id>, team:<name>, user:<name> or project:<name>.", "consumers")
            : null;
    }

    /// <summary><c>key:</c>, <c>team:</c>, <c>user:</c> or <c>project:</c> and a subject that does not end in <c>:</c>.</summary>
    private static bool IsConsumer(string consumer)
    {
        var colon = consumer.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && !consumer.EndsWith(':') && Scope.Find(consumer[..colon]) is { } scope && Scope.Consumers.Contains(scope);
    }

    private static async Task<IResult> ListBudgetsAsync(HttpContext http, GovernanceStore store, GovernanceStatus status, UsageQuery query, TimeProvider time)
    {
        var trends = new BudgetTrends(query, time.GetUtcNow(), http.RequestAborted);
        var views = new List<BudgetView>();
        foreach (var budget in store.Current.Budgets)
        {
            views.Add(await ViewAsync(budget, status, trends));
        }

        return AdminEndpoints.Json(views);
    }

    private static async Task<BudgetView> ViewAsync(GroupBudget budget, GovernanceStatus status, BudgetTrends trends)
    {
        var (spent, start, end) = await status.BudgetStatusAsync(budget.Scope, budget.Subject, budget.Spec);
        if (end == DateTimeOffset.MaxValue)
        {
            return BudgetView.From(budget, spent, start, end, null, null); // a "total" budget has no end to forecast
        }

        var trend = await trends.CostAsync(budget.Scope, budget.Subject);
        return BudgetView.From(budget, spent, start, end, SpendForecast.Project(spent, trend, trends.Now, end), SpendForecast.ExhaustedAt(spent, budget.Spec.Hard, trend, trends.Now, end));
    }

    /// <summary>The last 7 days' spend of each subject, read once per scope however many budgets a list has.</summary>
    private sealed class BudgetTrends(UsageQuery query, DateTimeOffset now, CancellationToken cancel)
    {
        private readonly Dictionary<string, Dictionary<string, decimal>> _byScope = new(StringComparer.Ordinal);

        public DateTimeOffset Now => now;

        public async Task<decimal> CostAsync(string scope, string subject)
        {
            if (!_byScope.TryGetValue(scope, out var costs))
            {
                var (from, to) = SpendForecast.TrendWindow(now);
                var rows = await query.RunAsync(from, to, [scope], cancel);
                _byScope[scope] = costs = rows.Where(r => r[scope] is string).ToDictionary(r => (string)r[scope]!, r => (decimal)r["cost"]!, StringComparer.Ordinal);
            }

            return costs.GetValueOrDefault(subject);
        }
    }

    private static async Task<IResult> CreateBudgetAsync(HttpRequest http, GovernanceStore store, CounterRebuilder rebuilder, GovernanceStatus status, UsageQuery query, TimeProvider time)
    {
        var (request, error) = await AdminEndpoints.ReadAsync<GroupRequest>(http);
        if (request is null)
        {
            return error!;
        }

        var spec = request.Spec();
        if ((ValidateGroup(request) ?? Validate(spec, allowTotal: true)) is { } invalid)
        {
            return invalid;
        }

        var budget = new GroupBudget(KeyHash.NewId("bud_"), request.Scope!, request.Subject!, spec, time.GetUtcNow());
        store.Save(budget);
        await rebuilder.RebuildBudgetAsync(budget.Scope, budget.Subject, spec, time.GetUtcNow());
        return Results.Json(await ViewAsync(budget, status, new BudgetTrends(query, time.GetUtcNow(), http.HttpContext.RequestAborted)), StoreJson.Options, statusCode: 201);
    }

    private static async Task<IResult> PatchBudgetAsync(string id, HttpRequest http, GovernanceStore store, CounterRebuilder rebuilder, GovernanceStatus status, UsageQuery query, TimeProvider time)
    {
        if (store.Current.Budgets.FirstOrDefault(b => b.Id == id) is not { } budget)
        {
            return AdminEndpoints.NotFound($"No budget with id '{id}'.");
        }

        var (request, error) = await AdminEndpoints.ReadAsync<GroupRequest>(http);
        if (request is null)
        {
            return error!;
        }

        var spec = new BudgetSpec(request.Period ?? budget.Spec.Period, request.Soft ?? budget.Spec.Soft, request.Hard ?? budget.Spec.Hard, request.TimeZone ?? budget.Spec.TimeZone, request.Thresholds ?? budget.Spec.Thresholds);
        if (Validate(spec, allowTotal: true) is { } invalid)
        {
            return invalid;
        }

        var updated = budget with { Spec = spec };
        store.Save(updated);
        if (spec.Period != budget.Spec.Period || spec.Zone != budget.Spec.Zone)
        {
            await rebuilder.RebuildBudgetAsync(updated.Scope, updated.Subject, spec, time.GetUtcNow());
        }

        return AdminEndpoints.Json(await ViewAsync(updated, status, new BudgetTrends(query, time.GetUtcNow(), http.HttpContext.RequestAborted)));
    }

    private static async Task<IResult> CreateLimitAsync(HttpRequest http, GovernanceStore store, TimeProvider time)
    {
        var (request, error) = await AdminEndpoints.ReadAsync<GroupRequest>(http);
        if (request is null)
        {
            return error!;
        }

        var limits = new KeyLimits(request.Rpm, request.Tpm, request.MaxCostPerMinute);
        if ((ValidateGroup(request) ?? Validate(limits)) is { } invalid)
        {
            return invalid;
        }

        var limit = new GroupLimit(KeyHash.NewId("lim_"), request.Scope!, request.Subject!, limits, time.GetUtcNow());
        store.Save(limit);
        return Results.Json(LimitView.From(limit), StoreJson.Options, statusCode: 201);
    }

    private static async Task<IResult> PatchLimitAsync(string id, HttpRequest http, GovernanceStore store)
    {
        if (store.Current.Limits.FirstOrDefault(l => l.Id == id) is not { } limit)
        {
            return AdminEndpoints.NotFound($"No limit with id '{id}'.");
        }

        var (request, error) = await AdminEndpoints.ReadAsync<GroupRequest>(http);
        if (request is null)
        {
            return error!;
        }

        var limits = new KeyLimits(request.Rpm ?? limit.Limits.Rpm, request.Tpm ?? limit.Limits.Tpm, request.MaxCostPerMinute ?? limit.Limits.MaxCostPerMinute);
        if (Validate(limits) is { } invalid)
        {
            return invalid;
        }

        var updated = limit with { Limits = limits };
        store.Save(updated);
        return AdminEndpoints.Json(LimitView.From(updated));
    }

    /// <summary>Creates (name null) or edits a plan; an edit applies to every key on the plan at its next request.</summary>
    private static async Task<IResult> SavePlanAsync(string? name, HttpRequest http, GovernanceStore store, CounterRebuilder rebuilder, KeyService keys, TimeProvider time)
    {
        Plan? existing = null;
        if (name is not null && !store.Current.Plans.TryGetValue(name, out existing))
        {
            return AdminEndpoints.NotFound($"No plan named '{name}'.");
        }

        var (request, error) = await AdminEndpoints.ReadAsync<PlanRequest>(http);
        if (request is null)
        {
            return error!;
        }

        if (existing is null && (string.IsNullOrWhiteSpace(request.Name) || store.Current.Plans.ContainsKey(request.Name)))
        {
            return AdminEndpoints.Invalid("'name' is required and must be new (PATCH /admin/plans/{name} edits a plan).", "name");
        }

        var plan = new Plan(
            existing?.Name ?? request.Name!,
            request.Models ?? existing?.Models ?? [],
            request.DailyBudget ?? existing?.DailyBudget,
            request.DailyRequests ?? existing?.DailyRequests,
            request.ModelDailyRequests ?? existing?.ModelDailyRequests ?? new Dictionary<string, long>(),
            request.Rpm ?? existing?.Rpm,
            request.Tpm ?? existing?.Tpm,
            request.TimeZone ?? existing?.TimeZone ?? "UTC",
            existing?.CreatedAt ?? time.GetUtcNow());
        if (plan.DailyBudget is < 0 || plan.DailyRequests is < 0 || plan.ModelDailyRequests.Values.Any(v => v < 0) || Validate(new KeyLimits(plan.Rpm, plan.Tpm)) is not null)
        {
            return AdminEndpoints.Invalid("Plan limits must be positive (budgets and caps may be 0).");
        }

        if (Periods.FindZone(plan.TimeZone) is null)
        {
            return AdminEndpoints.Invalid($"Unknown time zone '{plan.TimeZone}'.", "time_zone");
        }

        store.Save(plan);
        if (existing is not null && existing.TimeZone != plan.TimeZone)
        {
            foreach (var key in keys.List().Where(k => k.Plan == plan.Name))
            {
                await rebuilder.RebuildPlanAsync(plan, key, time.GetUtcNow());
            }
        }

        return existing is null ? Results.Json(plan, StoreJson.Options, statusCode: 201) : AdminEndpoints.Json(plan);
    }

    private sealed record PlanRequest(string? Name, string[]? Models, decimal? DailyBudget, long? DailyRequests, Dictionary<string, long>? ModelDailyRequests, long? Rpm, long? Tpm, string? TimeZone);

    /// <summary>"team, project, user, cost_center or customer".</summary>
    private static readonly string GroupNames = string.Join(", ", Scope.Groups.Take(Scope.Groups.Count - 1).Select(s => s.Name)) + " or " + Scope.Groups[^1].Name;

    private static IResult? ValidateGroup(GroupRequest request) =>
        Scope.FindGroup(request.Scope) is null ? AdminEndpoints.Invalid($"'scope' must be {GroupNames}.", "scope")
        : string.IsNullOrWhiteSpace(request.Subject) ? AdminEndpoints.Invalid("'subject' is required.", "subject")
        : null;

    private sealed record QuotaRequest(string? Name, long? LimitTokens, string? Cycle, string? TimeZone, string[]? Consumers, bool? Enabled);

    private sealed record GroupRequest(string? Scope, string? Subject, string? Period, decimal? Soft, decimal? Hard, string? TimeZone, decimal[]? Thresholds, long? Rpm, long? Tpm, decimal? MaxCostPerMinute)
    {
        public BudgetSpec Spec() => new(Period ?? "month", Soft, Hard, TimeZone, Thresholds);
    }

    private sealed record QuotaView(string Id, string Name, long LimitTokens, string Cycle, string TimeZone, IReadOnlyList<string> Consumers, bool Enabled, DateTimeOffset CreatedAt)
    {
        public static QuotaView From(QuotaRule r) => new(r.Id, r.Name, r.LimitTokens, r.Cycle, r.TimeZone, r.Consumers, r.Enabled, r.CreatedAt);
    }

    private sealed record BudgetView(string Id, string Scope, string Subject, string Period, decimal? Soft, decimal? Hard, string TimeZone, decimal[] Thresholds,
        decimal Spent, decimal? Remaining, DateTimeOffset PeriodStart, DateTimeOffset? PeriodEnd, DateTimeOffset CreatedAt, decimal? ForecastSpend, DateTimeOffset? ForecastExhaustedAt)
    {
        public static BudgetView From(GroupBudget b, decimal spent, DateTimeOffset start, DateTimeOffset end, decimal? forecast, DateTimeOffset? exhaustedAt) =>
            new(b.Id, b.Scope, b.Subject, b.Spec.Period, b.Spec.Soft, b.Spec.Hard, b.Spec.Zone, b.Spec.Thresholds ?? [0.5m, 0.8m, 1.0m],
                spent, b.Spec.Hard is { } hard ? Math.Max(0, hard - spent) : null, start, end == DateTimeOffset.MaxValue ? null : end, b.CreatedAt, forecast, exhaustedAt);
    }

    private sealed record LimitView(string Id, string Scope, string Subject, long? Rpm, long? Tpm, decimal? MaxCostPerMinute, DateTimeOffset CreatedAt)
    {
        public static LimitView From(GroupLimit l) => new(l.Id, l.Scope, l.Subject, l.Limits.Rpm, l.Limits.Tpm, l.Limits.MaxCostPerMinute, l.CreatedAt);
    }
}

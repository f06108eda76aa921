using System.Globalization;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// The govern step: before forwarding, reserve the estimated tokens and cost against every limit that applies —
/// quota rules, key and group budgets, RPM/TPM — in one all-or-nothing reservation; after the response, settle the
/// actual figures and release the rest.
/// <para>
/// Overshoot bound: a reservation is the input estimate (<see cref="TokenEstimator.EstimateInput"/>) times the model's
/// <see cref="InputCalibration"/> factor, plus <c>max_tokens</c> (or <see cref="GatewaySettings.DefaultOutputCap"/>),
/// priced with input at the dearer of the input and cache-write prices. Spend can pass a hard limit only by what calls in
/// flight at the same time use beyond their reservation: at most Σ over those calls of (actual − reserved), which is zero
/// when each sets <c>max_tokens</c> and the provider counts at most factor × the estimate.
/// </para>
/// </summary>
public sealed class Governor(
    ICounterStore counters,
    GovernanceStore config,
    PriceCatalog prices,
    TimeProvider time,
    Database db,
    LedgerWriter ledger,
    ICircuitStore breakers,
    Alerts.AlertService alerts,
    Alerts.SpikeDetector spikes,
    InputCalibration calibration,
    GatewaySettings settings)
{
    private static readonly decimal[] DefaultThresholds = [0.5m, 0.8m, 1.0m];

    /// <summary>A quota counter and its input/output/cached breakdown: <c>quota:…</c>, <c>quota:…:in</c>, ….</summary>
    private static readonly string[] QuotaSuffixes = ["", "in", "out", "cached"];

    /// <summary>Reserves for one call; a null lease and an error when something does not fit. Either way, the rate-limit state.</summary>
    /// <param name="calibrates">False when part of the billed input is not in the body (<c>previous_response_id</c>): such a
    /// call's actual ÷ estimated says nothing about the provider's tokenizer, so it does not teach the model's factor.</param>
    public async ValueTask<ReserveResult> ReserveAsync(VirtualKey key, Attribution attribution, Provider provider, string model, string upstreamModel, ReadOnlyMemory<byte> requestBody, long outputCap, bool calibrates = true)
    {
        var now = time.GetUtcNow();
        var lines = new List<Line>();
        AddRate(lines, "key", key.Id, key.Limits);
        var snapshot = config.Current;
        if (PlanOf(key) is { } plan)
        {
            AddPlan(lines, plan, key, model, now);
        }

        var limits = snapshot.Limits;
        for (var i = 0; i < limits.Count; i++)
        {
            if (Subject(attribution, limits[i].Scope) == limits[i].Subject)
            {
                AddRate(lines, limits[i].Scope, limits[i].Subject, limits[i].Limits);
            }
        }

        if (key.Budget is { } keyBudget)
        {
            AddBudget(lines, "key", key.Id, keyBudget, now);
        }

        var budgets = snapshot.Budgets;
        for (var i = 0; i < budgets.Count; i++)
        {
            if (Subject(attribution, budgets[i].Scope) == budgets[i].Subject)
            {
                AddBudget(lines, budgets[i].Scope, budgets[i].Subject, budgets[i].Spec, now);
            }
        }

        var circuits = new List<Circuit>();
        AddCircuit(circuits, "key", key.Id, key.Limits);
        for (var i = 0; i < limits.Count; i++)
        {
            if (Subject(attribution, limits[i].Scope) == limits[i].Subject)
            {
                AddCircuit(circuits, limits[i].Scope, limits[i].Subject, limits[i].Limits);
            }
        }

        for (var i = 0; i < circuits.Count; i++)
        {
            (bool Allowed, TimeSpan RetryAfter, bool Probe) entry;
            try
            {
                entry = await breakers.EnterAsync(circuits[i].Key, now);
            }
            catch (CounterStoreUnavailableException)
            {
                // A circuit breaker limits velocity like a rate limit: it fails open unless configured otherwise.
                if (!settings.RateLimitsFailOpen)
                {
                    return new(null, GatewayError.GovernanceUnavailable, null);
                }

                entry = (true, TimeSpan.Zero, false);
            }

            var (allowed, retryAfter, probe) = entry;
            if (!allowed)
            {
                await ReleaseProbesAsync(circuits, i);
                var c = circuits[i];
                return new(null, new GatewayError(429, "circuit_open", $"The cost-velocity circuit breaker of {c.Scope} '{c.Subject}' is open: spend passed {Money.FromE10(c.LimitE10)} per minute.")
                {
                    RetryAfterSeconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)),
                }, null);
            }

            circuits[i] = circuits[i] with { Probe = probe };
        }

        var rules = snapshot.QuotaRules;
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            if (!rule.Enabled)
            {
                continue;
            }

            for (var c = 0; c < rule.Consumers.Count; c++)
            {
                var consumer = rule.Consumers[c];
                if (Matches(consumer, key, attribution))
                {
                    var zone = Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc;
                    var (start, end) = Periods.Current(rule.Cycle, zone, now);
                    lines.Add(new Line(Measure.Tokens, Source.Quota, QuotaKey(rule, consumer, start), rule.LimitTokens, end, rule.Name, consumer, start));
                }
            }
        }

        if (lines.Count == 0 && circuits.Count == 0)
        {
            return new(Reservation.None, null, null);
        }

        // The tokenizer runs only when a token or money limit applies. Input is reserved at the calibrated factor and, when
        // the request places cache_control breakpoints, priced at the dearer of the input and cache-write prices, so neither
        // a provider's larger count nor a cache write (Anthropic charges 1.25 × input) makes the actual cost pass the reservation.
        var estimate = 0L;
        var tokens = 0L;
        var costE10 = 0L;
        if (lines.Exists(l => l.Measure != Measure.Requests))
        {
            estimate = TokenEstimator.EstimateInput(requestBody.Span, out var marksCache);
            var input = calibration.Reserve(model, estimate);
            tokens = input + outputCap;
            if (prices.Find(provider, upstreamModel) is { } price)
            {
                var perInput = marksCache ? Math.Max(price.InputPerMtok, price.CacheWritePerMtok) : price.InputPerMtok;
                costE10 = Money.ToE10(Math.Round(((input * perInput) + (outputCap * price.OutputPerMtok)) / 1_000_000m, 10, MidpointRounding.ToEven));
            }
        }

        var charges = lines.ConvertAll(l => new CounterCharge(l.Key, l.Source == Source.Rate ? CounterKind.Rate : CounterKind.Total,
            l.Measure switch { Measure.Requests => 1, Measure.Tokens => tokens, _ => costE10 }, l.Limit, l.End));
        ReserveOutcome outcome;
        try
        {
            outcome = await counters.ReserveAsync(charges, now);
        }
        catch (CounterStoreUnavailableException)
        {
            await ReleaseProbesAsync(circuits, circuits.Count);
            var hard = lines.Exists(l => l.Source != Source.Rate);
            if ((hard && settings.HardLimitsFailClosed) || (!hard && !settings.RateLimitsFailOpen))
            {
                return new(null, GatewayError.GovernanceUnavailable, null);
            }

            // Fail open: the call goes through unreserved; its usage still reaches the ledger.
            return new(new Reservation(null, [], [], [], key, model, 0), null, null);
        }

        if (!outcome.Accepted)
        {
            await ReleaseProbesAsync(circuits, circuits.Count);
            var failed = lines[outcome.FailedLine];
            RaiseRefusal(failed, key);
            return new(null, Refusal(failed, outcome.RetryAfter), RateHeaders(lines, outcome.Rates));
        }

        return new(new Reservation(this, lines, charges, circuits, key, model, calibrates ? estimate : 0), null, RateHeaders(lines, outcome.Rates));
    }

    /// <summary>The model policy of a key and its plan: both allowlists must allow the model; a key on a deleted plan may use none.</summary>
    public bool AllowsModel(VirtualKey key, string model) =>
        key.AllowsModel(model) && (key.Plan is null || (PlanOf(key)?.AllowsModel(model) ?? false));

    public Plan? PlanOf(VirtualKey key) => key.Plan is { } name && config.Current.Plans.TryGetValue(name, out var plan) ? plan : null;

    /// <summary>Spent, reserved-and-settled, in the current period of a budget (for <c>GET /admin/budgets</c>).</summary>
    public async ValueTask<(decimal Spent, DateTimeOffset Start, DateTimeOffset End)> BudgetStatusAsync(string scope, string subject, BudgetSpec spec)
    {
        var (start, end) = Periods.Current(spec.Period, Periods.FindZone(spec.Zone) ?? TimeZoneInfo.Utc, time.GetUtcNow());
        return (Money.FromE10(await counters.GetAsync(BudgetKey(scope, subject, spec, start), time.GetUtcNow())), start, end);
    }

    /// <summary>One consumer's figures in a quota rule's current cycle.</summary>
    public async ValueTask<QuotaUsage> QuotaStatusAsync(QuotaRule rule, string consumer)
    {
        var now = time.GetUtcNow();
        var (start, end) = Periods.Current(rule.Cycle, Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc, now);
        var key = QuotaKey(rule, consumer, start);
        var used = await counters.GetAsync(key, now);
        return new QuotaUsage(consumer, start, end, rule.LimitTokens, used, Math.Max(0, rule.LimitTokens - used),
            await counters.GetAsync(CounterKeys.Join(key, "in"), now), await counters.GetAsync(CounterKeys.Join(key, "out"), now), await counters.GetAsync(CounterKeys.Join(key, "cached"), now), used);
    }

    /// <summary>Zeroes a quota rule's current cycle for every consumer.</summary>
    public async ValueTask ResetQuotaAsync(QuotaRule rule)
    {
        var (start, _) = Periods.Current(rule.Cycle, Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc, time.GetUtcNow());
        foreach (var consumer in rule.Consumers)
        {
            var key = QuotaKey(rule, consumer, start);
            foreach (var suffix in QuotaSuffixes)
            {
                await counters.DeleteAsync(suffix.Length == 0 ? key : CounterKeys.Join(key, suffix));
            }
        }
    }

    /// <summary>
    /// Rebuilds the current periods' counters from the ledger (at start, and when a budget or rule is created), so a
    /// restart or a new limit starts from what was really spent this period.
    /// </summary>
    public async Task RebuildAsync(VirtualKey[] keys)
    {
        await ledger.FlushAsync();
        var now = time.GetUtcNow();
        var snapshot = config.Current;
        foreach (var key in keys)
        {
            if (key.Budget is { } spec)
            {
                await RebuildBudgetAsync("key", key.Id, spec, now);
            }

            if (PlanOf(key) is { } plan)
            {
                await RebuildPlanAsync(plan, key, now);
            }
        }

        foreach (var budget in snapshot.Budgets)
        {
            await RebuildBudgetAsync(budget.Scope, budget.Subject, budget.Spec, now);
        }

        foreach (var rule in snapshot.QuotaRules)
        {
            await RebuildQuotaAsync(rule, now);
        }
    }

    public async Task RebuildBudgetAsync(string scope, string subject, BudgetSpec spec, DateTimeOffset now)
    {
        await ledger.FlushAsync(); // every call made so far counts
        var (start, end) = Periods.Current(spec.Period, Periods.FindZone(spec.Zone) ?? TimeZoneInfo.Utc, now);
        var key = BudgetKey(scope, subject, spec, start);
        var spent = Sum("COALESCE(SUM(cost_e10), 0)", Column(scope), subject, start, end)[0];
        await counters.InitializeAsync(key, spent, end, now);
    }

    /// <summary>A plan's daily counters for one key: today's spend, requests and per-model requests from the ledger.</summary>
    public async Task RebuildPlanAsync(Plan plan, VirtualKey key, DateTimeOffset now)
    {
        await ledger.FlushAsync(); // every call made so far counts
        var lines = new List<Line>();
        AddPlan(lines, plan, key, "", now);
        foreach (var line in lines.Where(l => l.Source != Source.Rate))
        {
            var value = Sum(line.Measure == Measure.Money ? "COALESCE(SUM(cost_e10), 0)" : "COUNT(*)", "key_id", key.Id, line.Start, line.End)[0];
            await counters.InitializeAsync(line.Key, value, line.End, now);
        }

        var (start, end) = Periods.Current("day", Periods.FindZone(plan.TimeZone) ?? TimeZoneInfo.Utc, now);
        foreach (var model in plan.ModelDailyRequests.Keys)
        {
            await counters.InitializeAsync(PlanModelKey(plan, key, model, start), Sum("COUNT(*)", "key_id", key.Id, start, end, model)[0], end, now);
        }
    }

    public async Task RebuildQuotaAsync(QuotaRule rule, DateTimeOffset now)
    {
        await ledger.FlushAsync(); // every call made so far counts
        var (start, end) = Periods.Current(rule.Cycle, Periods.FindZone(rule.TimeZone) ?? TimeZoneInfo.Utc, now);
        foreach (var consumer in rule.Consumers)
        {
            var colon = consumer.IndexOf(':', StringComparison.Ordinal);
            var sums = Sum("COALESCE(SUM(input_tokens + output_tokens), 0), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cached_tokens), 0)",
                Column(consumer[..colon]), consumer[(colon + 1)..], start, end);
            var key = QuotaKey(rule, consumer, start);
            for (var i = 0; i < QuotaSuffixes.Length; i++)
            {
                await counters.InitializeAsync(i == 0 ? key : CounterKeys.Join(key, QuotaSuffixes[i]), sums[i], end, now);
            }
        }
    }

    internal async ValueTask SettleAsync(Reservation lease, UsageRecord record)
    {
        try
        {
            await SettleCountersAsync(lease, record);
        }
        catch (CounterStoreUnavailableException)
        {
            // The ledger has the call; counters are rebuilt from it when the store is back and empty.
        }
    }

    private async ValueTask SettleCountersAsync(Reservation lease, UsageRecord record)
    {
        if (!record.Estimated && record.ErrorClass is null)
        {
            calibration.Observe(lease.Model, lease.EstimatedInput, record.InputTokens);
        }

        var now = time.GetUtcNow();
        var tokens = record.InputTokens + record.OutputTokens;
        var cost = Money.ToE10(record.Cost);
        var actual = lease.Lines.ConvertAll(l => l.Measure switch { Measure.Requests => 1, Measure.Tokens => tokens, _ => cost });
        await counters.SettleAsync(lease.Charges, actual, now);
        var breakdown = new List<(string, long, DateTimeOffset)>();
        foreach (var line in lease.Lines)
        {
            if (line.Source == Source.Quota)
            {
                breakdown.Add((CounterKeys.Join(line.Key, "in"), record.InputTokens, line.End));
                breakdown.Add((CounterKeys.Join(line.Key, "out"), record.OutputTokens, line.End));
                breakdown.Add((CounterKeys.Join(line.Key, "cached"), record.CachedTokens, line.End));
            }
        }

        if (breakdown.Count > 0)
        {
            await counters.AddAsync(breakdown, now);
        }

        foreach (var line in lease.Lines)
        {
            if (line.Source == Source.Budget && line.Spec is { } spec)
            {
                await CheckThresholdsAsync(line, spec, lease.Key, now);
            }
        }

        foreach (var circuit in lease.Circuits)
        {
            if (await breakers.RecordAsync(circuit.Key, cost, circuit.LimitE10, circuit.Probe, now))
            {
                alerts.Raise("circuit.open", $"circuit.open:{circuit.Key}:{now.UtcTicks}", Payload(circuit.Scope, circuit.Subject, lease.Key, new()
                {
                    ["limit"] = Money.FromE10(circuit.LimitE10),
                    ["open_until"] = (now + TimeSpan.FromSeconds(settings.CircuitCooldownSeconds)).ToString("O", CultureInfo.InvariantCulture),
                }));
            }
        }

        if (cost > 0)
        {
            CheckSpike("key", lease.Key.Id, cost, lease.Key, now);
            if (lease.Key.Owner.Team is { } team)
            {
                CheckSpike("team", team, cost, lease.Key, now);
            }
        }
    }

    private async ValueTask CheckThresholdsAsync(Line line, BudgetSpec spec, VirtualKey key, DateTimeOffset now)
    {
        var limit = spec.Soft ?? spec.Hard;
        if (limit is not { } baseLimit || baseLimit <= 0)
        {
            return;
        }

        var spent = Money.FromE10(await counters.GetAsync(line.Key, now));
        foreach (var threshold in spec.Thresholds ?? DefaultThresholds)
        {
            if (spent >= threshold * baseLimit)
            {
                alerts.Raise("budget.threshold", $"budget.threshold:{line.Key}:{threshold.ToString(CultureInfo.InvariantCulture)}", Payload(line.Scope, line.Subject, key, new()
                {
                    ["threshold"] = threshold,
                    ["spent"] = spent,
                    ["limit"] = baseLimit,
                    ["period_start"] = line.Start.ToString("O", CultureInfo.InvariantCulture),
                    ["period_end"] = line.End == DateTimeOffset.MaxValue ? null : line.End.ToString("O", CultureInfo.InvariantCulture),
                }));
            }
        }
    }

    private void CheckSpike(string scope, string subject, long cost, VirtualKey key, DateTimeOffset now)
    {
        if (spikes.Add(CounterKeys.Join(scope, subject), cost, settings.SpikeFactor, now) is { } spike)
        {
            alerts.Raise("usage.spike", $"usage.spike:{scope}:{subject}:{now.ToUnixTimeSeconds() / 3600}", Payload(scope, subject, key, new()
            {
                ["spent_last_5_minutes"] = spike.Recent,
                ["average_5_minutes_last_hour"] = spike.Average,
                ["factor"] = settings.SpikeFactor,
            }));
        }
    }

    private void RaiseRefusal(Line line, VirtualKey key)
    {
        var end = line.End == DateTimeOffset.MaxValue ? null : line.End.ToString("O", CultureInfo.InvariantCulture);
        if (line.Source == Source.Budget)
        {
            alerts.Raise("budget.exceeded", "budget.exceeded:" + line.Key, Payload(line.Scope, line.Subject, key, new()
            {
                ["limit"] = Money.FromE10(line.Limit),
                ["period_start"] = line.Start.ToString("O", CultureInfo.InvariantCulture),
                ["period_end"] = end,
            }));
        }
        else if (line.Source == Source.Quota)
        {
            alerts.Raise("quota.exhausted", "quota.exhausted:" + line.Key, Payload("quota", line.Subject, key, new()
            {
                ["rule"] = line.Scope,
                ["limit_tokens"] = line.Limit,
                ["period_start"] = line.Start.ToString("O", CultureInfo.InvariantCulture),
                ["period_end"] = end,
            }));
        }
    }

    private static System.Text.Json.Nodes.JsonObject Payload(string scope, string subject, VirtualKey key, System.Text.Json.Nodes.JsonObject extra)
    {
        var owner = new System.Text.Json.Nodes.JsonObject();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                owner[name] = value;
            }
        }

        Add("user", key.Owner.User);
        Add("team", key.Owner.Team);
        Add("project", key.Owner.Project);
        Add("cost_center", key.Owner.CostCenter);
        Add("customer", key.Owner.Customer);
        var data = new System.Text.Json.Nodes.JsonObject { ["scope"] = scope, ["subject"] = subject, ["key_id"] = key.Id, ["owner"] = owner };
        foreach (var (name, value) in extra)
        {
            if (value is not null)
            {
                data[name] = value.DeepClone();
            }
        }

        return data;
    }

    private async ValueTask ReleaseProbesAsync(List<Circuit> circuits, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (circuits[i].Probe)
            {
                await breakers.ReleaseProbeAsync(circuits[i].Key);
            }
        }
    }

    private static void AddCircuit(List<Circuit> circuits, string scope, string subject, KeyLimits? limits)
    {
        if (limits?.MaxCostPerMinute is { } max)
        {
            circuits.Add(new Circuit(CounterKeys.Join("circuit", scope, subject), Money.ToE10(max), scope, subject, false));
        }
    }

    private static string? Subject(in Attribution a, string scope) => scope switch
    {
        "team" => a.Team,
        "project" => a.Project,
        "user" => a.User,
        "cost_center" => a.CostCenter,
        "customer" => a.Customer,
        _ => null,
    };

    private static bool Matches(string consumer, VirtualKey key, in Attribution a)
    {
        var colon = consumer.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        var value = consumer.AsSpan(colon + 1);
        return consumer.AsSpan(0, colon) switch
        {
            "key" => value.SequenceEqual(key.Id),
            "team" => value.SequenceEqual(a.Team),
            "user" => value.SequenceEqual(a.User),
            "project" => value.SequenceEqual(a.Project),
            _ => false,
        };
    }

    private static void AddRate(List<Line> lines, string scope, string subject, KeyLimits? limits)
    {
        if (limits?.Rpm is { } rpm)
        {
            lines.Add(new Line(Measure.Requests, Source.Rate, CounterKeys.Join("rpm", scope, subject), rpm, DateTimeOffset.MaxValue, scope, subject, default));
        }

        if (limits?.Tpm is { } tpm)
        {
            lines.Add(new Line(Measure.Tokens, Source.Rate, CounterKeys.Join("tpm", scope, subject), tpm, DateTimeOffset.MaxValue, scope, subject, default));
        }
    }

    /// <summary>A plan's limits apply per key: its RPM/TPM, daily budget, daily request cap and per-model daily caps.</summary>
    private static void AddPlan(List<Line> lines, Plan plan, VirtualKey key, string model, DateTimeOffset now)
    {
        AddRate(lines, "plan:" + plan.Name, key.Id, new KeyLimits(plan.Rpm, plan.Tpm));
        var (start, end) = Periods.Current("day", Periods.FindZone(plan.TimeZone) ?? TimeZoneInfo.Utc, now);
        var day = start.ToUnixTimeSeconds();
        if (plan.DailyBudget is { } budget)
        {
            lines.Add(new Line(Measure.Money, Source.Budget, CounterKeys.Join(day, "plan-budget", plan.Name, key.Id), Money.ToE10(budget), end, "plan", plan.Name, start)
            {
                Spec = new BudgetSpec("day", null, budget, plan.TimeZone),
            });
        }

        if (plan.DailyRequests is { } requests)
        {
            lines.Add(new Line(Measure.Requests, Source.DailyCap, CounterKeys.Join(day, "plan-requests", plan.Name, key.Id), requests, end, "plan", plan.Name, start));
        }

        if (plan.ModelDailyRequests.TryGetValue(model, out var modelRequests))
        {
            lines.Add(new Line(Measure.Requests, Source.DailyCap, PlanModelKey(plan, key, model, start), modelRequests, end, "plan", plan.Name + " (" + model + ")", start));
        }
    }

    private static string PlanModelKey(Plan plan, VirtualKey key, string model, DateTimeOffset start) =>
        CounterKeys.Join(start.ToUnixTimeSeconds(), "plan-model-requests", plan.Name, key.Id, model);

    /// <summary>A soft-only budget reserves against no limit: its counter still tracks spend for threshold alerts.</summary>
    private static void AddBudget(List<Line> lines, string scope, string subject, BudgetSpec spec, DateTimeOffset now)
    {
        var (start, end) = Periods.Current(spec.Period, Periods.FindZone(spec.Zone) ?? TimeZoneInfo.Utc, now);
        lines.Add(new Line(Measure.Money, Source.Budget, BudgetKey(scope, subject, spec, start), spec.Hard is { } hard ? Money.ToE10(hard) : long.MaxValue, end, scope, subject, start) { Spec = spec });
    }

    private static string BudgetKey(string scope, string subject, BudgetSpec spec, DateTimeOffset start) =>
        CounterKeys.Join(start.ToUnixTimeSeconds(), "budget", scope, subject, spec.Period);

    private static string QuotaKey(QuotaRule rule, string consumer, DateTimeOffset start) =>
        CounterKeys.Join(start.ToUnixTimeSeconds(), "quota", rule.Id, consumer);

    private static GatewayError Refusal(Line line, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        return line.Source switch
        {
            Source.Budget => new GatewayError(429, "budget_exceeded", $"The hard budget of {line.Scope} '{line.Subject}' for this period is reached.") { RetryAfterSeconds = seconds },
            Source.DailyCap => new GatewayError(429, "rate_limit_exceeded", $"The daily request cap of plan {line.Subject} is reached.") { RetryAfterSeconds = seconds },
            Source.Quota => new GatewayError(429, "token_quota_exceeded", $"The token quota '{line.Scope}' of {line.Subject} is used up for this cycle.") { RetryAfterSeconds = seconds },
            _ => new GatewayError(429, "rate_limit_exceeded", $"The {(line.Measure == Measure.Requests ? "requests" : "tokens")}-per-minute limit of {line.Scope} '{line.Subject}' is reached.") { RetryAfterSeconds = seconds },
        };
    }

    /// <summary>The tightest RPM and TPM state after this reservation.</summary>
    private static RateLimitHeaders? RateHeaders(List<Line> lines, RateState[] rates)
    {
        RateState? requests = null, tokens = null;
        var r = 0;
        foreach (var line in lines)
        {
            if (line.Source != Source.Rate)
            {
                continue;
            }

            var state = rates[r++];
            ref var slot = ref line.Measure == Measure.Requests ? ref requests : ref tokens;
            if (slot is null || state.Remaining < slot.Value.Remaining)
            {
                slot = state;
            }
        }

        return requests is null && tokens is null ? null : new RateLimitHeaders(requests, tokens);
    }

    private List<long> Sum(string select, string column, string subject, DateTimeOffset start, DateTimeOffset end, string? model = null)
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {select} FROM usage WHERE {column} = @subject AND ts >= @from AND ts < @to" + (model is null ? "" : " AND requested_model = @model");
        if (model is not null)
        {
            Database.AddParameters(command, ("@model", model));
        }

        Database.AddParameters(command, ("@subject", subject));
        Database.AddParameters(command, ("@from", start.ToUnixTimeMilliseconds()));
        Database.AddParameters(command, ("@to", end == DateTimeOffset.MaxValue ? long.MaxValue : end.ToUnixTimeMilliseconds()));
        using var reader = command.ExecuteReader();
        reader.Read();
        var values = new List<long>();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            values.Add(Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture));
        }

        return values;
    }

    private static string Column(string scope) => scope switch
    {
        "key" => "key_id",
        "team" => "team",
        "project" => "project",
        "user" => "\"user\"",
        "cost_center" => "cost_center",
        "customer" => "customer",
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    };

    internal enum Measure
    {
        Requests,
        Tokens,
        Money,
    }

    internal enum Source
    {
        Rate,
        Budget,
        Quota,
        DailyCap,
    }

    internal sealed record Line(Measure Measure, Source Source, string Key, long Limit, DateTimeOffset End, string Scope, string Subject, DateTimeOffset Start)
    {
        public BudgetSpec? Spec { get; init; }
    }

    internal sealed record Circuit(string Key, long LimitE10, string Scope, string Subject, bool Probe);
}

/// <summary>A reservation held by one call; settled once with the call's actual usage.</summary>
public sealed class Reservation
{
    public static readonly Reservation None = new(null, [], [], [], null!, "", 0);

    private readonly Governor? _governor;
    private int _settled;

    internal Reservation(Governor? governor, List<Governor.Line> lines, List<CounterCharge> charges, List<Governor.Circuit> circuits, VirtualKey key, string model, long estimatedInput)
    {
        _governor = governor;
        Lines = lines;
        Charges = charges;
        Circuits = circuits;
        Key = key;
        Model = model;
        EstimatedInput = estimatedInput;
    }

    /// <summary>The <c>provider/model</c> reserved for, and its input estimate before calibration (0: not estimated).</summary>
    internal string Model { get; }

    internal long EstimatedInput { get; }

    internal List<Governor.Circuit> Circuits { get; }

    internal VirtualKey Key { get; }

    internal List<Governor.Line> Lines { get; }

    internal List<CounterCharge> Charges { get; }

    public ValueTask SettleAsync(UsageRecord record) =>
        _governor is null || Interlocked.Exchange(ref _settled, 1) == 1 ? ValueTask.CompletedTask : _governor.SettleAsync(this, record);
}

/// <summary>What a reservation came to: a lease to settle, or the error to answer; and the rate-limit state for the headers.</summary>
public readonly record struct ReserveResult(Reservation? Lease, GatewayError? Error, RateLimitHeaders? RateHeaders);

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

public sealed record QuotaUsage(string Consumer, DateTimeOffset CycleStart, DateTimeOffset CycleEnd, long LimitTokens, long UsedTokens, long RemainingTokens, long InputTokens, long OutputTokens, long CachedTokens, long TotalTokens);

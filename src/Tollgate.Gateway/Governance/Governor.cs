using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// The govern step: before forwarding, reserve the estimated tokens and cost against every limit that applies —
/// quota rules, key and group budgets, RPM/TPM — in one all-or-nothing reservation; after the response, settle the
/// actual figures and release the rest. Which limits apply comes from <see cref="LinePlanner"/>.
/// <para>
/// Overshoot bound: a reservation is the input estimate (<see cref="TokenEstimator.EstimateInput"/>) times the model's
/// <see cref="InputCalibration"/> factor, plus <c>max_tokens</c> (or <see cref="GatewaySettings.DefaultOutputCap"/>),
/// priced with input at the dearer of the input and cache-write prices. Spend can pass a hard limit only by what calls in
/// flight at the same time use beyond their reservation: at most Σ over those calls of (actual − reserved), which is zero
/// when each sets <c>max_tokens</c> and the provider counts at most factor × the estimate.
/// </para>
/// </summary>
internal sealed class Governor(
    ICounterStore counters,
    LinePlanner planner,
    PriceCatalog prices,
    TimeProvider time,
    ICircuitStore breakers,
    GovernanceAlerts alerts,
    InputCalibration calibration,
    GatewaySettings settings)
{
    /// <summary>Reserves for one call; a null lease and an error when something does not fit. Either way, the rate-limit state.</summary>
    /// <param name="calibrates">False when part of the billed input is not in the body (<c>previous_response_id</c>): such a
    /// call's actual ÷ estimated says nothing about the provider's tokenizer, so it does not teach the model's factor.</param>
    /// <param name="alsoPricedAt">Other targets the call may reach (a route's fallbacks): the cost is reserved at the dearest
    /// of them and <paramref name="provider"/>'s model, so a fallback cannot take spend past a hard limit.</param>
    /// <param name="alertOnRefusal">False when a refusal may still be served otherwise (a route's downgrade): the
    /// <c>budget.exceeded</c> and <c>quota.exhausted</c> alerts then come from the reservation that really refuses.</param>
    /// <param name="writesCache">True when the gateway itself may mark the prompt for the provider's cache (a policy's
    /// <c>anthropic_auto</c>): input is then reserved at the cache-write price as if the request had marked it.</param>
    public async ValueTask<ReserveResult> ReserveAsync(VirtualKey key, Attribution attribution, Provider provider, string model, string upstreamModel, ReadOnlyMemory<byte> requestBody, long outputCap, bool calibrates = true, IReadOnlyList<(Provider Provider, string UpstreamModel)>? alsoPricedAt = null, bool alertOnRefusal = true, bool writesCache = false)
    {
        var now = time.GetUtcNow();
        var plan = planner.For(key, attribution, model, now);
        var lines = plan.Lines;
        var circuits = plan.Circuits;
        if (lines.Length == 0 && circuits.Length == 0)
        {
            return new(Reservation.None, null, null);
        }

        var probes = circuits.Length == 0 ? null : new bool[circuits.Length];
        for (var i = 0; i < circuits.Length; i++)
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
                await ReleaseProbesAsync(circuits, probes!);
                var c = circuits[i];
                return new(null, new GatewayError(429, "circuit_open", $"The cost-velocity circuit breaker of {c.Scope} '{c.Subject}' is open: spend passed {Money.FromE10(c.LimitE10)} per minute.")
                {
                    RetryAfterSeconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)),
                }, null);
            }

            probes![i] = probe;
        }

        // The tokenizer runs only when a token or money limit applies. Input is reserved at the calibrated factor and, when
        // the request places cache_control breakpoints, priced at the dearer of the input and cache-write prices, so neither
        // a provider's larger count nor a cache write (Anthropic charges 1.25 × input) makes the actual cost pass the reservation.
        var estimate = 0L;
        var tokens = 0L;
        var costE10 = 0L;
        if (plan.Estimates)
        {
            estimate = TokenEstimator.EstimateInput(requestBody.Span, out var marksCache);
            marksCache |= writesCache;
            var input = calibration.Reserve(model, estimate);
            tokens = input + outputCap;
            costE10 = ReservedCost(prices.Find(provider, upstreamModel), input, outputCap, marksCache);
            foreach (var (other, otherModel) in alsoPricedAt ?? [])
            {
                costE10 = Math.Max(costE10, ReservedCost(prices.Find(other, otherModel), input, outputCap, marksCache));
            }
        }

        var charges = new CounterCharge[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var l = lines[i];
            charges[i] = new CounterCharge(l.Key, l.Source == LineSource.Rate ? CounterKind.Rate : CounterKind.Total, Amount(l.Measure, tokens, costE10), l.Limit, l.End);
        }

        ReserveOutcome outcome;
        try
        {
            outcome = await counters.ReserveAsync(charges, now);
        }
        catch (CounterStoreUnavailableException)
        {
            await ReleaseProbesAsync(circuits, probes);
            if ((plan.Hard && settings.HardLimitsFailClosed) || (!plan.Hard && !settings.RateLimitsFailOpen))
            {
                return new(null, GatewayError.GovernanceUnavailable, null);
            }

            // Fail open: the call goes through unreserved; its usage still reaches the ledger.
            return new(Reservation.Unreserved(key, model), null, null);
        }

        if (!outcome.Accepted)
        {
            await ReleaseProbesAsync(circuits, probes);
            var failed = lines[outcome.FailedLine];
            if (alertOnRefusal)
            {
                alerts.Refused(failed, key);
            }

            return new(null, Refusal(failed, outcome.RetryAfter), RateHeaders(lines, outcome.Rates));
        }

        return new(new Reservation(this, plan, charges, probes, key, model, calibrates ? estimate : 0), null, RateHeaders(lines, outcome.Rates));
    }

    /// <summary>
    /// A call the response cache answers: one request against the RPM limits that apply, nothing else (no tokens, no
    /// money, no daily request cap). A refusal when an RPM limit is reached; either way, the rate-limit state.
    /// </summary>
    public async ValueTask<(GatewayError? Refusal, RateLimitHeaders? Headers)> CountCachedAsync(VirtualKey key, Attribution attribution, string model)
    {
        var now = time.GetUtcNow();
        var lines = Array.FindAll(planner.For(key, attribution, model, now).Lines, l => l.Source == LineSource.Rate && l.Measure == Measure.Requests);
        if (lines.Length == 0)
        {
            return (null, null);
        }

        ReserveOutcome outcome;
        try
        {
            outcome = await counters.ReserveAsync([.. lines.Select(l => new CounterCharge(l.Key, CounterKind.Rate, 1, l.Limit, l.End))], now);
        }
        catch (CounterStoreUnavailableException)
        {
            return (settings.RateLimitsFailOpen ? null : GatewayError.GovernanceUnavailable, null);
        }

        var headers = RateHeaders(lines, outcome.Rates);
        return (outcome.Accepted ? null : Refusal(lines[outcome.FailedLine], outcome.RetryAfter), headers);
    }

    /// <summary>
    /// The largest share of its limit that any hard budget or token quota applying to this call has used (0 when none
    /// applies): what a route's <c>downgrade.at</c> is compared with.
    /// </summary>
    public async ValueTask<decimal> UsedShareAsync(VirtualKey key, Attribution attribution, string model)
    {
        var now = time.GetUtcNow();
        var share = 0m;
        foreach (var line in planner.For(key, attribution, model, now).Lines)
        {
            if (line.Source is LineSource.Budget or LineSource.Quota && line.Limit > 0)
            {
                try
                {
                    share = Math.Max(share, (decimal)await counters.GetAsync(line.Key, now) / line.Limit);
                }
                catch (CounterStoreUnavailableException)
                {
                    // Unknown: no downgrade by share; the reservation that follows fails open or closed as configured.
                    return 0;
                }
            }
        }

        return share;
    }

    /// <summary>
    /// An attempt of a routed call that the provider billed but that did not answer (a retry or fallback followed): its
    /// tokens and cost are added to the budgets and quotas now; the reservation stays for the attempts to come and is
    /// settled by the one that ends the call. Request counts are the call's, not the attempt's.
    /// </summary>
    internal async ValueTask ChargeAttemptAsync(Reservation lease, UsageRecord record)
    {
        var tokens = record.InputTokens + record.OutputTokens;
        var cost = Money.ToE10(record.Cost);
        if (tokens == 0 && cost == 0)
        {
            return;
        }

        var additions = new List<(string, long, DateTimeOffset)>();
        foreach (var line in lease.Plan.Lines)
        {
            if (line.Source != LineSource.Rate && line.Measure != Measure.Requests)
            {
                additions.Add((line.Key, Amount(line.Measure, tokens, cost), line.End));
            }
        }

        try
        {
            await counters.AddAsync(additions, time.GetUtcNow());
        }
        catch (CounterStoreUnavailableException)
        {
            // The ledger has the attempt; counters are rebuilt from it when the store is back and empty.
        }
    }

    /// <summary>The model policy of a key and its plan: both allowlists must allow the model; a key on a deleted plan may use none.</summary>
    public bool AllowsModel(VirtualKey key, string model) =>
        key.AllowsModel(model) && (key.Plan is null || (PlanOf(key)?.AllowsModel(model) ?? false));

    public Plan? PlanOf(VirtualKey key) => planner.PlanOf(key);

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
        // Only an answer from the model reserved for teaches its factor (a route's fallback has a tokenizer of its own).
        if (!record.Estimated && record.ErrorClass is null && record.RequestedModel == lease.Model)
        {
            calibration.Observe(lease.Model, lease.EstimatedInput, record.InputTokens);
        }

        var now = time.GetUtcNow();
        var tokens = record.InputTokens + record.OutputTokens;
        var cost = Money.ToE10(record.Cost);
        var lines = lease.Plan.Lines;
        var actual = new long[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            actual[i] = Amount(lines[i].Measure, tokens, cost);
        }

        await counters.SettleAsync(lease.Charges, actual, now);
        if (lease.Plan.QuotaCount > 0)
        {
            var breakdown = new (string, long, DateTimeOffset)[lease.Plan.QuotaCount * 3];
            var b = 0;
            foreach (var line in lines)
            {
                if (line.Source == LineSource.Quota)
                {
                    breakdown[b++] = (CounterKeys.Join(line.Key, "in"), record.InputTokens, line.End);
                    breakdown[b++] = (CounterKeys.Join(line.Key, "out"), record.OutputTokens, line.End);
                    breakdown[b++] = (CounterKeys.Join(line.Key, "cached"), record.CachedTokens, line.End);
                }
            }

            await counters.AddAsync(breakdown, now);
        }

        foreach (var line in lines)
        {
            if (line.Source == LineSource.Budget && line.Spec is { } spec)
            {
                await alerts.CheckThresholdsAsync(line, spec, lease.Key, now);
            }
        }

        var circuits = lease.Plan.Circuits;
        for (var i = 0; i < circuits.Length; i++)
        {
            if (await breakers.RecordAsync(circuits[i].Key, cost, circuits[i].LimitE10, lease.Probes![i], now))
            {
                alerts.CircuitOpened(circuits[i], lease.Key, now);
            }
        }

        alerts.Spent(lease.Key, cost, now);
    }

    /// <summary>The cost reserved for <paramref name="input"/> and <paramref name="outputCap"/> tokens at a price (0 without one).</summary>
    private static long ReservedCost(ModelPrice? price, long input, long outputCap, bool marksCache)
    {
        if (price is null)
        {
            return 0;
        }

        var perInput = marksCache ? Math.Max(price.InputPerMtok, price.CacheWritePerMtok) : price.InputPerMtok;
        return Money.ToE10(Math.Round(((input * perInput) + (outputCap * price.OutputPerMtok)) / 1_000_000m, 10, MidpointRounding.ToEven));
    }

    private static long Amount(Measure measure, long tokens, long costE10) => measure switch
    {
        Measure.Requests => 1,
        Measure.Tokens => tokens,
        _ => costE10,
    };

    /// <summary>Hands back the half-open probes this call took (it will not be forwarded, so it cannot close a circuit).</summary>
    private async ValueTask ReleaseProbesAsync(Circuit[] circuits, bool[]? probes)
    {
        for (var i = 0; probes is not null && i < circuits.Length; i++)
        {
            if (probes[i])
            {
                await breakers.ReleaseProbeAsync(circuits[i].Key);
            }
        }
    }

    private static GatewayError Refusal(Line line, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        return line.Source switch
        {
            LineSource.Budget => new GatewayError(429, "budget_exceeded", $"The hard budget of {line.Scope} '{line.Subject}' for this period is reached.") { RetryAfterSeconds = seconds },
            LineSource.DailyCap => new GatewayError(429, "rate_limit_exceeded", $"The daily request cap of plan {line.Subject} is reached.") { RetryAfterSeconds = seconds },
            LineSource.Quota => new GatewayError(429, "token_quota_exceeded", $"The token quota '{line.Scope}' of {line.Subject} is used up for this cycle.") { RetryAfterSeconds = seconds },
            _ => new GatewayError(429, "rate_limit_exceeded", $"The {(line.Measure == Measure.Requests ? "requests" : "tokens")}-per-minute limit of {line.Scope} '{line.Subject}' is reached.") { RetryAfterSeconds = seconds },
        };
    }

    /// <summary>The tightest RPM and TPM state after this reservation.</summary>
    private static RateLimitHeaders? RateHeaders(Line[] lines, RateState[] rates)
    {
        RateState? requests = null, tokens = null;
        var r = 0;
        foreach (var line in lines)
        {
            if (line.Source != LineSource.Rate)
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
}

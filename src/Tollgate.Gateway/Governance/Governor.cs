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
    public async ValueTask<ReserveResult> ReserveAsync(VirtualKey key, Attribution attribution, Provider provider, string model, string upstreamModel, ReadOnlyMemory<byte> requestBody, long outputCap, bool calibrates = true)
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
            var input = calibration.Reserve(model, estimate);
            tokens = input + outputCap;
            if (prices.Find(provider, upstreamModel) is { } price)
            {
                var perInput = marksCache ? Math.Max(price.InputPerMtok, price.CacheWritePerMtok) : price.InputPerMtok;
                costE10 = Money.ToE10(Math.Round(((input * perInput) + (outputCap * price.OutputPerMtok)) / 1_000_000m, 10, MidpointRounding.ToEven));
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
            alerts.Refused(failed, key);
            return new(null, Refusal(failed, outcome.RetryAfter), RateHeaders(lines, outcome.Rates));
        }

        return new(new Reservation(this, plan, charges, probes, key, model, calibrates ? estimate : 0), null, RateHeaders(lines, outcome.Rates));
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
        if (!record.Estimated && record.ErrorClass is null)
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

using System.Globalization;
using System.Text.Json.Nodes;
using Tollgate.Gateway.Alerts;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// The alerts governance raises: budget thresholds and refusals after a call, quota exhaustion, an opened circuit and a
/// spend spike. Each carries a de-duplication key for its once-per-period rule and the instant after which that key can
/// no longer recur (its period's end), so the alert service can forget it.
/// </summary>
internal sealed class GovernanceAlerts(AlertService alerts, SpikeDetector spikes, ICounterStore counters, GatewaySettings settings)
{
    private static readonly decimal[] DefaultThresholds = [0.5m, 0.8m, 1.0m];

    /// <summary>After a settled call: every threshold of the budget that its spend has now reached (once per threshold per period).</summary>
    internal async ValueTask CheckThresholdsAsync(Line line, BudgetSpec spec, VirtualKey key, DateTimeOffset now)
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
                    ["period_end"] = End(line),
                }), line.End);
            }
        }
    }

    /// <summary>A refused call: a budget is exceeded (once per period) or a quota exhausted (once per consumer per cycle).</summary>
    internal void Refused(Line line, VirtualKey key)
    {
        if (line.Source == LineSource.Budget)
        {
            alerts.Raise("budget.exceeded", "budget.exceeded:" + line.Key, Payload(line.Scope, line.Subject, key, new()
            {
                ["limit"] = Money.FromE10(line.Limit),
                ["period_start"] = line.Start.ToString("O", CultureInfo.InvariantCulture),
                ["period_end"] = End(line),
            }), line.End);
        }
        else if (line.Source == LineSource.Quota)
        {
            alerts.Raise("quota.exhausted", "quota.exhausted:" + line.Key, Payload("quota", line.Subject, key, new()
            {
                ["rule"] = line.Scope,
                ["limit_tokens"] = line.Limit,
                ["period_start"] = line.Start.ToString("O", CultureInfo.InvariantCulture),
                ["period_end"] = End(line),
            }), line.End);
        }
    }

    /// <summary>A circuit that a call's spend has just opened; every opening is its own alert.</summary>
    internal void CircuitOpened(Circuit circuit, VirtualKey key, DateTimeOffset now) =>
        alerts.Raise("circuit.open", $"circuit.open:{circuit.Key}:{now.UtcTicks}", Payload(circuit.Scope, circuit.Subject, key, new()
        {
            ["limit"] = Money.FromE10(circuit.LimitE10),
            ["open_until"] = (now + TimeSpan.FromSeconds(settings.CircuitCooldownSeconds)).ToString("O", CultureInfo.InvariantCulture),
        }), now);

    /// <summary>A settled call's spend, checked for a spike of its key and of its key's team (once per subject per hour).</summary>
    internal void Spent(VirtualKey key, long costE10, DateTimeOffset now)
    {
        if (costE10 <= 0)
        {
            return;
        }

        CheckSpike("key", key.Id, costE10, key, now);
        if (key.Owner.Team is { } team)
        {
            CheckSpike("team", team, costE10, key, now);
        }
    }

    private void CheckSpike(string scope, string subject, long cost, VirtualKey key, DateTimeOffset now)
    {
        if (spikes.Add(CounterKeys.Join(scope, subject), cost, settings.SpikeFactor, now) is { } spike)
        {
            var hour = now.ToUnixTimeSeconds() / 3600;
            alerts.Raise("usage.spike", $"usage.spike:{scope}:{subject}:{hour}", Payload(scope, subject, key, new()
            {
                ["spent_last_5_minutes"] = spike.Recent,
                ["average_5_minutes_last_hour"] = spike.Average,
                ["factor"] = settings.SpikeFactor,
            }), DateTimeOffset.FromUnixTimeSeconds((hour + 1) * 3600));
        }
    }

    private static string? End(Line line) => line.End == DateTimeOffset.MaxValue ? null : line.End.ToString("O", CultureInfo.InvariantCulture);

    private static JsonObject Payload(string scope, string subject, VirtualKey key, JsonObject extra)
    {
        var owner = new JsonObject();
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
        var data = new JsonObject { ["scope"] = scope, ["subject"] = subject, ["key_id"] = key.Id, ["owner"] = owner };
        foreach (var (name, value) in extra)
        {
            if (value is not null)
            {
                data[name] = value.DeepClone();
            }
        }

        return data;
    }
}

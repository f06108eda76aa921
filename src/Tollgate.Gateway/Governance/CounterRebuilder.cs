using System.Globalization;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Rebuilds the current periods' counters from the ledger (at start, when the counter store lost its data, and when a
/// budget, rule or plan is created or moved to another period), so a restart or a new limit starts from what was really
/// spent this period. Counters that exist are never overwritten.
/// </summary>
internal sealed class CounterRebuilder(ICounterStore counters, GovernanceStore config, LinePlanner planner, TimeProvider time, Database db, LedgerWriter ledger)
{
    /// <summary>A quota counter and its input/output/cached breakdown: <c>quota:…</c>, <c>quota:…:in</c>, ….</summary>
    internal static readonly string[] QuotaSuffixes = ["", "in", "out", "cached"];

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

            if (planner.PlanOf(key) is { } plan)
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
        var spent = Sum("COALESCE(SUM(cost_e10), 0)", ColumnOf(scope), subject, start, end)[0];
        await counters.InitializeAsync(CounterKeys.Budget(scope, subject, spec, start), spent, end, now);
    }

    /// <summary>A plan's daily counters for one key: today's spend, requests and per-model requests from the ledger.</summary>
    public async Task RebuildPlanAsync(Plan plan, VirtualKey key, DateTimeOffset now)
    {
        await ledger.FlushAsync(); // every call made so far counts
        var lines = new List<Line>();
        LinePlanner.AddPlan(lines, plan, key, "", now);
        foreach (var line in lines)
        {
            if (line.Source != LineSource.Rate)
            {
                var value = Sum(line.Measure == Measure.Money ? "COALESCE(SUM(cost_e10), 0)" : "COUNT(*)", Scope.Key.Column, key.Id, line.Start, line.End)[0];
                await counters.InitializeAsync(line.Key, value, line.End, now);
            }
        }

        var (start, end) = Periods.Current("day", Periods.FindZone(plan.TimeZone) ?? TimeZoneInfo.Utc, now);
        foreach (var model in plan.ModelDailyRequests.Keys)
        {
            await counters.InitializeAsync(CounterKeys.PlanModel(plan, key.Id, model, start), Sum("COUNT(*)", Scope.Key.Column, key.Id, start, end, model)[0], end, now);
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
                ColumnOf(consumer[..colon]), consumer[(colon + 1)..], start, end);
            var key = CounterKeys.Quota(rule, consumer, start);
            for (var i = 0; i < QuotaSuffixes.Length; i++)
            {
                await counters.InitializeAsync(i == 0 ? key : CounterKeys.Join(key, QuotaSuffixes[i]), sums[i], end, now);
            }
        }
    }

    private static string ColumnOf(string scope) => (Scope.Find(scope) ?? throw new ArgumentOutOfRangeException(nameof(scope))).Column;

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
}

using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Governance;

/// <summary>A reservation held by one call; settled once with the call's actual usage.</summary>
internal sealed class Reservation
{
    public static readonly Reservation None = new(null, LinePlan.Empty, [], null, null!, "", 0);

    private readonly Governor? _governor;
    private int _settled;

    internal Reservation(Governor? governor, LinePlan plan, CounterCharge[] charges, bool[]? probes, VirtualKey key, string model, long estimatedInput)
    {
        _governor = governor;
        (Plan, Charges, Probes) = (plan, charges, probes);
        (Key, Model, EstimatedInput) = (key, model, estimatedInput);
    }

    /// <summary>The <c>provider/model</c> reserved for, and its input estimate before calibration (0: not estimated).</summary>
    internal string Model { get; }

    internal long EstimatedInput { get; }

    internal VirtualKey Key { get; }

    /// <summary>The limits reserved against (shared with other calls: never modified).</summary>
    internal LinePlan Plan { get; }

    /// <summary>What was reserved, one charge per line of <see cref="Plan"/>.</summary>
    internal CounterCharge[] Charges { get; }

    /// <summary>Per circuit of <see cref="Plan"/>: whether this call is the half-open probe; null when no circuit applies.</summary>
    internal bool[]? Probes { get; }

    /// <summary>A call let through unreserved because the counter store is down: nothing to settle, the ledger still has it.</summary>
    internal static Reservation Unreserved(VirtualKey key, string model) => new(null, LinePlan.Empty, [], null, key, model, 0);

    public ValueTask SettleAsync(UsageRecord record) =>
        _governor is null || Interlocked.Exchange(ref _settled, 1) == 1 ? ValueTask.CompletedTask : _governor.SettleAsync(this, record);
}

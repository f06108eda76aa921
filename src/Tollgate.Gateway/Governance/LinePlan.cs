using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Governance;

/// <summary>
/// Every limit that applies to one key's calls with one attribution (and model, where a plan caps models), for the
/// periods current in [<see cref="ValidFrom"/>, <see cref="ValidUntil"/>). Immutable: cached, and shared by the calls it fits.
/// </summary>
internal sealed class LinePlan
{
    public static readonly LinePlan Empty = new([], [], null!, default, "", checksModel: false);

    private readonly VirtualKey _key;
    private readonly Attribution _attribution;
    private readonly string _model;
    private readonly bool _checksModel;

    public LinePlan(Line[] lines, Circuit[] circuits, VirtualKey key, in Attribution attribution, string model, bool checksModel)
    {
        (Lines, Circuits) = (lines, circuits);
        (_key, _attribution, _model, _checksModel) = (key, attribution, model, checksModel);
        (ValidFrom, ValidUntil) = (DateTimeOffset.MinValue, DateTimeOffset.MaxValue);
        var quotas = 0;
        foreach (var line in lines)
        {
            Estimates |= line.Measure != Measure.Requests;
            Hard |= line.Source != LineSource.Rate;
            quotas += line.Source == LineSource.Quota ? 1 : 0;
            if (line.End != DateTimeOffset.MaxValue)
            {
                ValidFrom = line.Start > ValidFrom ? line.Start : ValidFrom;
                ValidUntil = line.End < ValidUntil ? line.End : ValidUntil;
            }
        }

        QuotaCount = quotas;
    }

    public Line[] Lines { get; }

    public Circuit[] Circuits { get; }

    /// <summary>Some line counts tokens or money, so the call's input must be estimated and priced.</summary>
    public bool Estimates { get; }

    /// <summary>Some line is a budget, quota or daily cap (they fail closed when the counter store is down).</summary>
    public bool Hard { get; }

    /// <summary>Quota lines, each settled with an input/output/cached breakdown.</summary>
    public int QuotaCount { get; }

    public DateTimeOffset ValidFrom { get; }

    public DateTimeOffset ValidUntil { get; }

    /// <summary>
    /// True when this plan is the one a call would build: same key record (an edited key is a new record), same group
    /// subjects, same model where it matters, and every period still current.
    /// </summary>
    public bool Fits(VirtualKey key, in Attribution attribution, string model, DateTimeOffset now) =>
        ReferenceEquals(key, _key) && now >= ValidFrom && now < ValidUntil
        && (!_checksModel || string.Equals(model, _model, StringComparison.Ordinal))
        && SameGroups(attribution);

    private bool SameGroups(in Attribution a)
    {
        var groups = Scope.Groups;
        for (var i = 0; i < groups.Count; i++)
        {
            if (!string.Equals(groups[i].Of(a), groups[i].Of(_attribution), StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}

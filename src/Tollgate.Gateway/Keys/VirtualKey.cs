namespace Tollgate.Gateway.Keys;

/// <summary>Who a key belongs to; recorded on every usage record. Attribution headers fill what is unset, never override.</summary>
internal sealed record KeyOwner(string? User = null, string? Team = null, string? Project = null, string? CostCenter = null, string? Customer = null)
{
    public static readonly KeyOwner None = new();
}

/// <summary>A virtual key as stored: only the SHA-256 of the secret is kept.</summary>
internal sealed record VirtualKey(
    string Id,
    string Hash,
    string Prefix,
    string Name,
    string Role,
    KeyOwner Owner,
    IReadOnlyList<string> Models,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt)
{
    public const string AppRole = "app";
    public const string ViewerRole = "viewer";
    public const string AdminRole = "admin";

    /// <summary>The plan this key follows, by name.</summary>
    public string? Plan { get; init; }

    /// <summary>The key's own RPM/TPM and cost-velocity limits.</summary>
    public Governance.KeyLimits? Limits { get; init; }

    /// <summary>The key's own money budget.</summary>
    public Governance.BudgetSpec? Budget { get; init; }

    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);

    /// <summary>An empty allowlist allows every model; entries are exact names or <c>provider/*</c>.</summary>
    public bool AllowsModel(string model) => ModelMatches(Models, model);

    /// <summary>The allowlist rule shared by keys and plans.</summary>
    public static bool ModelMatches(IReadOnlyList<string> allowlist, string model)
    {
        if (allowlist.Count == 0)
        {
            return true;
        }

        foreach (var entry in allowlist)
        {
            if (entry.EndsWith("/*", StringComparison.Ordinal)
                ? model.StartsWith(entry.AsSpan(0, entry.Length - 1), StringComparison.Ordinal)
                : string.Equals(entry, model, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

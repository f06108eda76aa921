namespace Tollgate.Gateway.Ledger;

/// <summary>Money is stored as an integer count of 1e-10 currency units: exact sums in SQL, 10 decimals on the wire.</summary>
internal static class Money
{
    private const decimal Scale = 10_000_000_000m;

    public static long ToE10(decimal amount) => (long)decimal.Round(amount * Scale, 0, MidpointRounding.ToEven);

    public static decimal FromE10(long units) => units / Scale;

    /// <summary>The same value without trailing zeros (<c>1.400000</c> → <c>1.4</c>), for reports and exports.</summary>
    public static decimal Trim(decimal value) => value / 1.000000000000000000000000000000000m;
}

using System.Globalization;
using Tollgate.Gateway.Ledger;

namespace Tollgate.Gateway.Reports;

/// <summary>The token kinds a call is charged for: each is a SKU of its model with a unit price of its own.</summary>
internal enum TokenKind
{
    Input,
    CachedInput,
    CacheWrite,
    Output,
}

/// <summary>One aggregated ledger group (hour, key, provider, model, operation, currency, attribution, unit prices).</summary>
internal sealed class FocusGroup
{
    public required DateTimeOffset ChargePeriodStart { get; init; }

    public required DateTimeOffset ChargePeriodEnd { get; init; }

    public required DateTimeOffset BillingPeriodStart { get; init; }

    public required DateTimeOffset BillingPeriodEnd { get; init; }

    public string? KeyId { get; init; }

    public string? KeyName { get; init; }

    public required string Provider { get; init; }

    public required string ProviderName { get; init; }

    public required string ServiceName { get; init; }

    public required string Model { get; init; }

    public required string Operation { get; init; }

    public required string Currency { get; init; }

    public string? Tags { get; init; }

    public long Requests { get; init; }

    /// <summary>Input tokens that were neither read from nor written to a prompt cache.</summary>
    public long Uncached { get; init; }

    public long Cached { get; init; }

    public long CacheWrite { get; init; }

    public long Output { get; init; }

    public long Reasoning { get; init; }

    /// <summary>What the ledger charged for the group: Σ cost_e10, exact to 10 decimals.</summary>
    public decimal Cost { get; init; }

    /// <summary>Unit prices per million tokens (input, cached input, cache write, output); zeros when there is no price.</summary>
    public required (decimal Input, decimal CachedInput, decimal CacheWrite, decimal Output) Prices { get; init; }

    /// <summary><c>recorded</c> (charged at, kept with the call), <c>catalog</c> (today's price, for calls from before unit prices were kept) or <c>none</c>.</summary>
    public required string PriceSource { get; init; }

    /// <summary>
    /// The group's FOCUS rows: one per token kind with tokens, or, when the calls consumed none (calls that failed
    /// before any usage), one uncached-input row with quantity 0 so the calls stay counted.
    /// </summary>
    public List<FocusRow> Split()
    {
        var rows = new List<FocusRow>(4);
        Add(rows, TokenKind.Input, Uncached, Prices.Input);
        Add(rows, TokenKind.CachedInput, Cached, Prices.CachedInput);
        Add(rows, TokenKind.CacheWrite, CacheWrite, Prices.CacheWrite);
        Add(rows, TokenKind.Output, Output, Prices.Output);
        if (rows.Count == 0)
        {
            rows.Add(new FocusRow(this, TokenKind.Input, 0, Prices.Input));
        }

        // Requests are counted once per group (on its first row), so x_Requests sums to the number of calls.
        rows[0].Requests = Requests;
        ShareCost(rows);
        return rows;
    }

    private void Add(List<FocusRow> rows, TokenKind kind, long quantity, decimal unitPrice)
    {
        // Reasoning is part of output; an output row also carries reasoning a provider reported without output.
        if (quantity > 0 || (kind == TokenKind.Output && Reasoning > 0))
        {
            rows.Add(new FocusRow(this, kind, quantity, unitPrice));
        }
    }

    /// <summary>
    /// Spreads the ledger's cost of the group over its rows: each row gets its list cost rounded half-to-even to
    /// 10 decimals, the last row what is left, so the export's BilledCost adds up to the ledger exactly. With unit
    /// prices of at most 4 decimals (per million tokens) nothing is rounded and BilledCost = ListCost on every row;
    /// finer prices (the ledger rounds each call to 1e-10) or today's price on an older call make the ledger's cost
    /// differ from the list costs, and it is then shared in their proportion (in tokens when the list costs are 0).
    /// </summary>
    private void ShareCost(List<FocusRow> rows)
    {
        decimal list = 0, tokens = 0;
        foreach (var row in rows)
        {
            list += row.ListCost;
            tokens += row.Quantity;
        }

        var remaining = Cost;
        for (var i = 0; i < rows.Count - 1; i++)
        {
            var share = list == Cost ? rows[i].ListCost
                : list != 0 ? Cost * (rows[i].ListCost / list)
                : tokens != 0 ? Cost * (rows[i].Quantity / tokens)
                : 0;
            rows[i].BilledCost = Math.Round(share, 10, MidpointRounding.ToEven);
            remaining -= rows[i].BilledCost;
        }

        rows[^1].BilledCost = remaining;
    }
}

/// <summary>One FOCUS row: the tokens of one kind in one ledger group, at one unit price.</summary>
internal sealed class FocusRow(FocusGroup group, TokenKind kind, long quantity, decimal unitPrice)
{
    private const decimal Million = 1_000_000m;

    public FocusGroup Group { get; } = group;

    public TokenKind Kind { get; } = kind;

    /// <summary>Tokens of this kind (ConsumedQuantity).</summary>
    public long Quantity { get; } = quantity;

    /// <summary>Price per million tokens (ListUnitPrice, ContractedUnitPrice).</summary>
    public decimal UnitPrice { get; } = unitPrice;

    /// <summary>Millions of tokens (PricingQuantity); exact, as a token count has no more than 6 decimals in millions.</summary>
    public decimal PricingQuantity => Quantity / Million;

    /// <summary>ListUnitPrice × PricingQuantity, unrounded: at most 10 + 6 decimals, exact in <see cref="decimal"/>.</summary>
    public decimal ListCost => UnitPrice * PricingQuantity;

    /// <summary>This row's share of what the ledger charged (see <see cref="FocusGroup"/>'s ShareCost).</summary>
    public decimal BilledCost { get; set; }

    /// <summary>The group's calls on its first row, 0 on the others.</summary>
    public long Requests { get; set; }

    public string SkuId => $"{Group.Model}/{Slug}";

    /// <summary>The SKU at one unit price and currency: <c>openai/gpt-4o/input@2.5USD</c>.</summary>
    public string SkuPriceId => string.Create(CultureInfo.InvariantCulture, $"{SkuId}@{Money.Trim(UnitPrice)}{Group.Currency}");

    public string SkuMeter => Kind switch
    {
        TokenKind.Input => "Input Tokens",
        TokenKind.CachedInput => "Cached Input Tokens",
        TokenKind.CacheWrite => "Cache Write Input Tokens",
        _ => "Output Tokens",
    };

    // The x_ token columns keep their meaning (cached and cache-write tokens are input, reasoning is output) and sum
    // across rows to the ledger's figures: each row holds only its own kind's tokens.
    public long InputTokens => Kind == TokenKind.Output ? 0 : Quantity;

    public long CachedInputTokens => Kind == TokenKind.CachedInput ? Quantity : 0;

    public long CacheWriteInputTokens => Kind == TokenKind.CacheWrite ? Quantity : 0;

    public long OutputTokens => Kind == TokenKind.Output ? Quantity : 0;

    public long ReasoningTokens => Kind == TokenKind.Output ? Group.Reasoning : 0;

    public string Description => string.Create(
        CultureInfo.InvariantCulture,
        $"{Quantity} {Noun} of {Group.Model}{(Requests == 0 ? "" : Requests == 1 ? " in 1 request" : $" in {Requests} requests")} through Tollgate");

    private string Slug => Kind switch
    {
        TokenKind.Input => "input",
        TokenKind.CachedInput => "cached-input",
        TokenKind.CacheWrite => "cache-write",
        _ => "output",
    };

    private string Noun => Kind switch
    {
        TokenKind.Input => "uncached input tokens",
        TokenKind.CachedInput => "cached input tokens",
        TokenKind.CacheWrite => "cache write input tokens",
        _ => "output tokens",
    };
}

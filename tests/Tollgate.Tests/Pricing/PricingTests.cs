using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Storage;

namespace Tollgate.Tests.Unit;

public sealed class PricingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tollgate-pricing").FullName;
    private readonly PriceCatalog _catalog;

    public PricingTests()
    {
        var db = new SqliteDatabase(Path.Combine(_dir, "t.db"));
        db.Migrate();
        _catalog = new PriceCatalog(db);
    }

    [Fact]
    public void Cost_charges_uncached_input_cache_reads_cache_writes_and_output_at_their_own_prices()
    {
        var price = new ModelPrice(3.00m, 0.30m, 3.75m, 15.00m, "USD");

        var cost = price.Cost(new TokenUsage(Input: 10_000, Cached: 6_000, CacheWrite: 2_000, Output: 1_000, Reasoning: 0));

        // 2000 × 3 + 6000 × 0.3 + 2000 × 3.75 + 1000 × 15 = 30300 per million
        Assert.Equal(0.0303m, cost);
    }

    [Fact]
    public void Provider_cache_savings_are_the_cache_reads_at_the_input_price_less_the_cached_price_and_never_negative()
    {
        var price = new ModelPrice(3.00m, 0.30m, 3.75m, 15.00m, "USD");
        var usage = new TokenUsage(Input: 10_000, Cached: 6_000, CacheWrite: 2_000, Output: 1_000, Reasoning: 0);

        // 6000 × (3 − 0.3) = 16200 per million; cache writes and output save nothing.
        Assert.Equal(0.0162m, price.ProviderCacheSavings(usage));
        // What the call would have cost with every cache read at the input price, less what it cost.
        Assert.Equal(price.Cost(usage) + price.ProviderCacheSavings(usage), (price with { CachedInputPerMtok = price.InputPerMtok }).Cost(usage));
        Assert.Equal(0m, price.ProviderCacheSavings(usage with { Cached = 0 }));
        Assert.Equal(0m, (price with { CachedInputPerMtok = 4m }).ProviderCacheSavings(usage)); // a cached price above the input price
        Assert.Equal(0.0000000002m, new ModelPrice(0.00025m, 0.0001m, 0m, 0m, "USD").ProviderCacheSavings(new TokenUsage(1, 1, 0, 0, 0))); // 1.5e-10, to 10 decimals half to even
    }

    [Fact]
    public void Cost_is_exact_to_ten_decimals()
    {
        var price = new ModelPrice(0.15m, 0.075m, 0.15m, 0.60m, "USD");

        Assert.Equal(0.0000001500m, price.Cost(new TokenUsage(1, 0, 0, 0, 0)));
        Assert.Equal(0.0000000750m, price.Cost(new TokenUsage(1, 1, 0, 0, 0)));
        Assert.Equal(12.3456789012m, Money.FromE10(Money.ToE10(12.3456789012m)));
    }

    [Theory]
    [InlineData("openai", "gpt-4o-mini-2024-07-18", 0.15)]
    [InlineData("openai", "gpt-4o-2024-08-06", 2.50)]
    [InlineData("azure_openai", "gpt-4.1-mini", 0.40)]
    [InlineData("anthropic", "claude-sonnet-4-5-20250929", 3.00)]
    [InlineData("anthropic", "claude-haiku-4-5", 1.00)]
    public void Dated_snapshots_and_azure_find_their_family_price(string kind, string model, double input)
    {
        var provider = new Provider("p", ProviderKinds.Parse(kind)!.Value, "https://example.invalid/v1", null, [], DateTimeOffset.UnixEpoch);

        Assert.Equal((decimal)input, _catalog.Find(provider, model)?.InputPerMtok);
    }

    [Fact]
    public void Unknown_models_of_compatible_servers_have_no_price_until_one_is_set()
    {
        var provider = new Provider("vllm", ProviderKind.OpenAiCompatible, "http://localhost:8000/v1", null, [], DateTimeOffset.UnixEpoch);
        Assert.Null(_catalog.Find(provider, "meta-llama/Llama-3.1-8B"));

        _catalog.Set("vllm", "meta-llama/Llama-3.1-8B", new ModelPrice(0.1m, 0.1m, 0.1m, 0.2m, "USD"));

        Assert.Equal(0.2m, _catalog.Find(provider, "meta-llama/Llama-3.1-8B")?.OutputPerMtok);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Pricing;

/// <summary>
/// Built-in list prices by provider family, overridden per provider name and model through the admin API.
/// Lookups fall back from the exact model to the longest catalog name it starts with, so dated snapshots
/// (<c>gpt-4o-2024-08-06</c>, <c>claude-sonnet-4-5-20250929</c>) find their base model's price.
/// </summary>
internal sealed class PriceCatalog
{
    private readonly Database _db;
    private readonly Dictionary<(string Provider, string Model), ModelPrice> _builtIn = [];
    private readonly ConcurrentDictionary<(string Provider, string Model), ModelPrice> _overrides = new();
    private readonly ConcurrentDictionary<(string Provider, string Model), ModelPrice?> _resolved = new();

    public PriceCatalog(Database db)
    {
        _db = db;
        using var stream = typeof(PriceCatalog).Assembly.GetManifestResourceStream("Tollgate.Pricing.catalog.json")
            ?? throw new InvalidOperationException("price catalog resource missing");
        using var doc = JsonDocument.Parse(stream);
        var currency = doc.RootElement.GetProperty("currency").GetString()!;
        AsOf = doc.RootElement.GetProperty("as_of").GetString()!;
        foreach (var m in doc.RootElement.GetProperty("models").EnumerateArray())
        {
            var input = m.GetProperty("input").GetDecimal();
            _builtIn[(m.GetProperty("provider").GetString()!, m.GetProperty("model").GetString()!)] = new ModelPrice(
                input,
                m.GetProperty("cached_input").GetDecimal(),
                m.TryGetProperty("cache_write", out var cw) ? cw.GetDecimal() : input,
                m.GetProperty("output").GetDecimal(),
                currency);
        }
    }

    public string AsOf { get; }

    public const string DefaultCurrency = "USD";

    /// <summary>Loads (or re-loads, when another replica changed them) the price overrides.</summary>
    public void Load()
    {
        var seen = new HashSet<(string, string)>();
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT provider, model, input_per_mtok, cached_input_per_mtok, cache_write_per_mtok, output_per_mtok, currency FROM prices";
        using var r = command.ExecuteReader();
        while (r.Read())
        {
            seen.Add((r.GetString(0), r.GetString(1)));
            _overrides[(r.GetString(0), r.GetString(1))] = new ModelPrice(Dec(r.GetString(2)), Dec(r.GetString(3)), Dec(r.GetString(4)), Dec(r.GetString(5)), r.GetString(6));
        }

        foreach (var key in _overrides.Keys.Where(k => !seen.Contains(k)))
        {
            _overrides.TryRemove(key, out _);
        }

        _resolved.Clear();
    }

    public bool HasOverride(string provider, string model) => _overrides.ContainsKey((provider, model));

    /// <summary>Sets and stores the price of <c>provider/model</c> (model may be <c>*</c> for every model of that provider).</summary>
    public void Set(string provider, string model, ModelPrice price)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO prices (provider, model, input_per_mtok, cached_input_per_mtok, cache_write_per_mtok, output_per_mtok, currency)
            VALUES (@p, @m, @i, @c, @w, @o, @cur)
            ON CONFLICT (provider, model) DO UPDATE SET input_per_mtok = excluded.input_per_mtok,
                cached_input_per_mtok = excluded.cached_input_per_mtok, cache_write_per_mtok = excluded.cache_write_per_mtok,
                output_per_mtok = excluded.output_per_mtok, currency = excluded.currency
            """;
        Database.AddParameters(
            command,
            ("@p", provider),
            ("@m", model),
            ("@i", Str(price.InputPerMtok)),
            ("@c", Str(price.CachedInputPerMtok)),
            ("@w", Str(price.CacheWritePerMtok)),
            ("@o", Str(price.OutputPerMtok)),
            ("@cur", price.Currency));
        command.ExecuteNonQuery();

        _overrides[(provider, model)] = price;
        _resolved.Clear();
    }

    /// <summary>Every price: built-in rows (under their family name) and overrides (under the provider name).</summary>
    public IEnumerable<(string Provider, string Model, ModelPrice Price, bool BuiltIn)> All() =>
        _builtIn.Where(b => !_overrides.ContainsKey(b.Key)).Select(b => (b.Key.Provider, b.Key.Model, b.Value, true))
            .Concat(_overrides.Select(o => (o.Key.Provider, o.Key.Model, o.Value, false)))
            .OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2, StringComparer.Ordinal);

    /// <summary>Models with a known price for this provider (for <c>/v1/models</c>).</summary>
    public IEnumerable<string> PricedModels(Provider provider)
    {
        var family = provider.Kind.CatalogFamily();
        return _builtIn.Keys.Where(k => k.Provider == family).Select(k => k.Model)
            .Concat(_overrides.Keys.Where(k => k.Provider == provider.Name && k.Model != "*").Select(k => k.Model))
            .Distinct(StringComparer.Ordinal);
    }

    public ModelPrice? Find(Provider provider, string model) =>
        _resolved.GetOrAdd((provider.Name, model), static (key, state) => state.Catalog.Resolve(state.Provider, key.Model), (Catalog: this, Provider: provider));

    private ModelPrice? Resolve(Provider provider, string model)
    {
        if (_overrides.TryGetValue((provider.Name, model), out var exact))
        {
            return exact;
        }

        if (provider.Kind.CatalogFamily() is { } family && _builtIn.TryGetValue((family, model), out var builtIn))
        {
            return builtIn;
        }

        var best = Longest(_overrides, provider.Name, model) ?? (provider.Kind.CatalogFamily() is { } f ? Longest(_builtIn, f, model) : null);
        return best ?? (_overrides.TryGetValue((provider.Name, "*"), out var any) ? any : null);
    }

    private static ModelPrice? Longest(IEnumerable<KeyValuePair<(string Provider, string Model), ModelPrice>> prices, string provider, string model)
    {
        ModelPrice? best = null;
        var bestLength = 0;
        foreach (var (key, price) in prices)
        {
            if (key.Provider == provider && key.Model.Length > bestLength && model.Length > key.Model.Length
                && model.StartsWith(key.Model, StringComparison.Ordinal) && model[key.Model.Length] is '-' or '@' or ':')
            {
                best = price;
                bestLength = key.Model.Length;
            }
        }

        return best;
    }

    private static decimal Dec(string s) => decimal.Parse(s, NumberStyles.Number, CultureInfo.InvariantCulture);

    private static string Str(decimal d) => d.ToString(CultureInfo.InvariantCulture);
}

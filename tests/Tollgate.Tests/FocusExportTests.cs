using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Parquet;
using Parquet.Schema;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The FOCUS 1.2 export checked against the specification's column rules (tag v1.2), in CSV and Parquet.</summary>
[Collection(GatewayCollection.Name)]
public sealed partial class FocusExportTests(GatewayHost host)
{
    private static readonly string[] Mandatory =
    [
        "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
        "ChargeClass", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName",
        "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
    ];

    private static readonly string[] NotNull =
    [
        "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargePeriodEnd",
        "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName",
        "ServiceCategory", "ServiceName", "ChargeFrequency", "ServiceSubcategory",
    ];

    private static readonly string[] Decimals = ["BilledCost", "ConsumedQuantity", "ContractedCost", "EffectiveCost", "ListCost", "PricingQuantity"];

    private static readonly string[] Times = ["BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"];

    private static readonly string[] AiSubcategories = ["AI Platforms", "Bots", "Generative AI", "Machine Learning", "Natural Language Processing", "Other (AI and Machine Learning)"];

    [Fact]
    public async Task The_FOCUS_export_follows_the_column_rules_of_the_specification_and_adds_up_to_the_ledger()
    {
        // Whole seconds, as FOCUS times are, so the export and /admin/usage cover exactly the same range.
        var from = WholeSecond(DateTimeOffset.UtcNow);
        var team = "focus-" + Guid.NewGuid().ToString("N")[..8];
        var (ownedId, owned) = await host.CreateKey(new { name = "focus, owned", owner = new { team, project = "search \"v2\"", cost_center = "cc-7" } });
        var (plainId, plain) = await host.CreateKey(new { name = "focus plain" });
        for (var i = 0; i < 3; i++)
        {
            using var chat = await host.Proxy("/v1/chat/completions", owned, GatewayHost.Chat(), ("x-mock-cached-tokens", "4"));
            Assert.Equal(200, (int)chat.StatusCode);
        }

        using var embed = await host.Proxy("/v1/embeddings", owned, """{"model":"mock/echo","input":"toll"}""");
        using var other = await host.Proxy("/v1/chat/completions", plain, GatewayHost.Chat(), ("X-Feature", "digest"));
        Assert.Equal((200, 200), ((int)embed.StatusCode, (int)other.StatusCode));
        var to = WholeSecond(DateTimeOffset.UtcNow).AddSeconds(1);
        var range = $"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}";

        using var csvResponse = await host.Admin(HttpMethod.Get, $"/admin/export/focus?{range}&format=csv");
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var (header, rows) = ParseCsv(await csvResponse.Content.ReadAsStringAsync());

        // Columns: every Mandatory one, FOCUS columns before custom x_ ones, IDs in PascalCase (ColumnHandling).
        Assert.Empty(Mandatory.Except(header));
        Assert.Subset(header.ToHashSet(), new HashSet<string> { "ChargeFrequency", "ServiceSubcategory", "ConsumedQuantity", "ConsumedUnit", "SubAccountId", "SubAccountName", "Tags" });
        var firstCustom = header.FindIndex(c => c.StartsWith("x_", StringComparison.Ordinal));
        Assert.True(firstCustom > 0 && header.Skip(firstCustom).All(c => c.StartsWith("x_", StringComparison.Ordinal)), "custom columns come last");
        Assert.All(header.Take(firstCustom), c => Assert.Matches("^[A-Z][A-Za-z]+$", c));

        foreach (var row in rows)
        {
            CheckRow(row, from, to);
        }

        // Other tests of this gateway may have calls in the same seconds: count only this test's keys.
        Assert.Equal(3, rows.Count(r => r["SubAccountId"] == ownedId || r["SubAccountId"] == plainId)); // chat and embeddings rows of one key, a chat row of the other

        var chatRow = rows.Single(r => r["SubAccountId"] == ownedId && r["ServiceSubcategory"] == "Generative AI");
        Assert.Equal("focus, owned", chatRow["SubAccountName"]);
        Assert.Equal("60", chatRow["ConsumedQuantity"]);
        Assert.Equal("0.00006", chatRow["PricingQuantity"]);
        Assert.Equal("3", chatRow["x_Requests"]);
        Assert.Equal("12", chatRow["x_CachedInputTokens"]);
        Assert.Equal("0.0000732", chatRow["BilledCost"]); // 3 × (8 × 1.00 + 4 × 0.10 + 8 × 2.00) per million
        var tags = JsonDocument.Parse(chatRow["Tags"]!).RootElement;
        Assert.Equal(team, tags.GetProperty("team").GetString());
        Assert.Equal("search \"v2\"", tags.GetProperty("project").GetString());
        Assert.Equal("cc-7", tags.GetProperty("cost_center").GetString());
        Assert.Equal("Natural Language Processing", rows.Single(r => r["SubAccountId"] == ownedId && r != chatRow)["ServiceSubcategory"]);
        Assert.Equal("""{"feature":"digest"}""", rows.Single(r => r["SubAccountId"] == plainId)["Tags"]);

        // The same money as the ledger's own report for the range.
        var usage = await host.AdminJson(HttpMethod.Get, $"/admin/usage?{range}");
        Assert.Equal(usage[0].GetProperty("cost").GetDecimal(), rows.Sum(r => decimal.Parse(r["BilledCost"]!, CultureInfo.InvariantCulture)));

        // Parquet: typed columns with the same nullability and the same values.
        using var parquetResponse = await host.Admin(HttpMethod.Get, $"/admin/export/focus?{range}&format=parquet");
        Assert.Equal("application/vnd.apache.parquet", parquetResponse.Content.Headers.ContentType?.MediaType);
        using var file = new MemoryStream(await parquetResponse.Content.ReadAsByteArrayAsync());
        await using var parquet = await ParquetReader.CreateAsync(file);
        var fields = parquet.Schema.DataFields;
        Assert.Equal(header, fields.Select(f => f.Name));
        Assert.All(fields.Where(f => Decimals.Contains(f.Name)), f => Assert.IsType<DecimalDataField>(f));
        Assert.All(fields.Where(f => Times.Contains(f.Name)), f => Assert.True(f is DateTimeDataField { IsAdjustedToUTC: true }, f.Name));
        Assert.All(fields.Where(f => NotNull.Contains(f.Name)), f => Assert.False(f.IsNullable, f.Name));
        Assert.All(fields.Where(f => f.Name is "ChargeClass" or "ConsumedQuantity" or "SubAccountId" or "Tags"), f => Assert.True(f.IsNullable, f.Name));
        using var group = parquet.OpenRowGroupReader(0);
        Assert.Equal(rows.Count, group.RowCount);
        var cost = new decimal[rows.Count];
        await group.ReadAsync<decimal>(fields.Single(f => f.Name == "BilledCost"), cost.AsMemory());
        Assert.Equal(rows.Select(r => decimal.Parse(r["BilledCost"]!, CultureInfo.InvariantCulture)), cost);
        var starts = new DateTime[rows.Count];
        await group.ReadAsync<DateTime>(fields.Single(f => f.Name == "ChargePeriodStart"), starts.AsMemory());
        Assert.Equal(rows.Select(r => DateTime.Parse(r["ChargePeriodStart"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal)), starts.Select(s => s.ToUniversalTime()));
        var classes = new string?[rows.Count];
        await group.ReadAsync(fields.Single(f => f.Name == "ChargeClass"), classes.AsMemory());
        Assert.All(classes, Assert.Null);
        var accounts = new string?[rows.Count];
        await group.ReadAsync(fields.Single(f => f.Name == "SubAccountId"), accounts.AsMemory());
        Assert.Equal(rows.Select(r => r["SubAccountId"]), accounts);
    }

    [Fact]
    public async Task The_FOCUS_export_refuses_an_unknown_format_or_time()
    {
        using var format = await host.Admin(HttpMethod.Get, "/admin/export/focus?format=xlsx");
        using var time = await host.Admin(HttpMethod.Get, "/admin/export/focus?from=yesterday");
        Assert.Equal((400, 400), ((int)format.StatusCode, (int)time.StatusCode));
    }

    private static DateTimeOffset WholeSecond(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    /// <summary>The row rules of FOCUS 1.2 that apply to usage rows.</summary>
    private static void CheckRow(IReadOnlyDictionary<string, string?> row, DateTimeOffset from, DateTimeOffset to)
    {
        // NullHandling: no empty strings or placeholders; null is an empty CSV field.
        foreach (var name in NotNull)
        {
            Assert.False(string.IsNullOrWhiteSpace(row[name]), $"{name} must not be null");
        }

        foreach (var name in Decimals.Concat(row.Keys.Where(k => k.StartsWith("x_", StringComparison.Ordinal) && k != "x_Model")))
        {
            if (row[name] is { } number)
            {
                Assert.Matches(NumericFormat(), number); // NumericFormat: plain or -E notation, no '+', no separators
            }
        }

        foreach (var name in Times)
        {
            Assert.Matches(DateTimeFormat(), row[name]!); // DateTimeFormat: YYYY-MM-DDTHH:mm:ssZ
        }

        DateTimeOffset Time(string name) => DateTimeOffset.Parse(row[name]!, CultureInfo.InvariantCulture);
        Assert.True(Time("ChargePeriodStart") < Time("ChargePeriodEnd"), "a charge period has a length");
        Assert.True(Time("ChargePeriodStart") >= from && Time("ChargePeriodEnd") <= to, "charge period inside the export range");
        Assert.True(Time("BillingPeriodStart") <= Time("ChargePeriodStart") && Time("ChargePeriodEnd") <= Time("BillingPeriodEnd"), "charge inside its billing period");
        Assert.Equal((1, TimeSpan.Zero), (Time("BillingPeriodStart").Day, Time("BillingPeriodStart").TimeOfDay));
        Assert.Equal(Time("BillingPeriodStart").AddMonths(1), Time("BillingPeriodEnd"));

        Assert.Matches("^[A-Z]{3}$", row["BillingCurrency"]!); // CurrencyFormat: ISO 4217
        Assert.Equal("Usage", row["ChargeCategory"]);
        Assert.Null(row["ChargeClass"]); // not a correction of a past period
        Assert.Equal("Usage-Based", row["ChargeFrequency"]);
        Assert.Equal("AI and Machine Learning", row["ServiceCategory"]);
        Assert.Contains(row["ServiceSubcategory"], AiSubcategories);

        // Costs: no discounts or commitments, so list = contracted = effective = billed.
        Assert.Equal(row["BilledCost"], row["EffectiveCost"]);
        Assert.Equal(row["BilledCost"], row["ListCost"]);
        Assert.Equal(row["BilledCost"], row["ContractedCost"]);

        // Usage rows: consumed and pricing quantities are not null; units go with quantities (UnitFormat).
        var tokens = long.Parse(row["x_InputTokens"]!, CultureInfo.InvariantCulture) + long.Parse(row["x_OutputTokens"]!, CultureInfo.InvariantCulture);
        Assert.Equal(tokens.ToString(CultureInfo.InvariantCulture), row["ConsumedQuantity"]);
        Assert.Equal("Tokens", row["ConsumedUnit"]);
        Assert.Equal(tokens / 1_000_000m, decimal.Parse(row["PricingQuantity"]!, CultureInfo.InvariantCulture));
        Assert.Equal("1000000 Tokens", row["PricingUnit"]);

        // SubAccountName is null exactly when SubAccountId is.
        Assert.Equal(row["SubAccountId"] is null, row["SubAccountName"] is null);

        // Tags (KeyValueFormat): a JSON object with unique keys and scalar values, or null.
        if (row["Tags"] is { } tags)
        {
            var json = JsonDocument.Parse(tags).RootElement;
            Assert.Equal(JsonValueKind.Object, json.ValueKind);
            var keys = json.EnumerateObject().Select(p => p.Name).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.All(json.EnumerateObject(), p => Assert.DoesNotContain(p.Value.ValueKind, new[] { JsonValueKind.Object, JsonValueKind.Array }));
        }
    }

    /// <summary>RFC 4180 with a header row; an empty unquoted field is null.</summary>
    private static (List<string> Header, List<Dictionary<string, string?>> Rows) ParseCsv(string text)
    {
        var records = new List<List<string?>>();
        var fields = new List<string?>();
        var field = new StringBuilder();
        var quoted = false;
        var wasQuoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = wasQuoted = true;
            }
            else if (c is ',' or '\n')
            {
                fields.Add(field.Length == 0 && !wasQuoted ? null : field.ToString());
                field.Clear();
                wasQuoted = false;
                if (c == '\n')
                {
                    records.Add(fields);
                    fields = [];
                }
            }
            else
            {
                field.Append(c);
            }
        }

        var header = records[0].Select(h => h!).ToList();
        return (header, records.Skip(1).Select(r => header.Zip(r).ToDictionary(p => p.First, p => p.Second)).ToList());
    }

    [GeneratedRegex(@"^-?\d+(\.\d+)?(E-\d+)?$")]
    private static partial Regex NumericFormat();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
    private static partial Regex DateTimeFormat();
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Parquet;
using Parquet.Schema;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Storage;
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
        "ServiceCategory", "ServiceName", "ChargeFrequency", "ServiceSubcategory", "SkuId",
    ];

    private static readonly string[] Decimals = ["BilledCost", "ConsumedQuantity", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "ListCost", "ListUnitPrice", "PricingQuantity"];

    private static readonly string[] Kinds = ["input", "cached-input", "cache-write", "output"];

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
        Assert.Subset(header.ToHashSet(), new HashSet<string> { "ChargeFrequency", "ServiceSubcategory", "ConsumedQuantity", "ConsumedUnit", "SubAccountId", "SubAccountName", "Tags",
            "SkuId", "SkuPriceId", "SkuMeter", "ListUnitPrice", "ContractedUnitPrice", "PricingCategory", "x_PriceSource" });
        var firstCustom = header.FindIndex(c => c.StartsWith("x_", StringComparison.Ordinal));
        Assert.True(firstCustom > 0 && header.Skip(firstCustom).All(c => c.StartsWith("x_", StringComparison.Ordinal)), "custom columns come last");
        Assert.All(header.Take(firstCustom), c => Assert.Matches("^[A-Z][A-Za-z]+$", c));

        foreach (var row in rows)
        {
            CheckRow(row, from, to);
        }

        // Other tests of this gateway may have calls in the same seconds: count only this test's keys. One row per
        // token kind: the owned key's chat has uncached input, cached input and output; its embeddings input only;
        // the plain key's chat input and output.
        Assert.Equal(6, rows.Count(r => r["SubAccountId"] == ownedId || r["SubAccountId"] == plainId));
        Assert.All(rows.Where(r => r["SubAccountId"] == ownedId || r["SubAccountId"] == plainId), r => Assert.Equal("recorded", r["x_PriceSource"]));

        var chatRows = rows.Where(r => r["SubAccountId"] == ownedId && r["ServiceSubcategory"] == "Generative AI").ToList();
        Assert.Equal(["mock/echo/input", "mock/echo/cached-input", "mock/echo/output"], chatRows.Select(r => r["SkuId"]));
        Assert.Equal(["24", "12", "24"], chatRows.Select(r => r["ConsumedQuantity"]));
        Assert.Equal(["1", "0.1", "2"], chatRows.Select(r => r["ListUnitPrice"]));
        Assert.Equal(["0.000024", "0.0000012", "0.000048"], chatRows.Select(r => r["ListCost"]));
        Assert.Equal(["mock/echo/input@1USD", "mock/echo/cached-input@0.1USD", "mock/echo/output@2USD"], chatRows.Select(r => r["SkuPriceId"]));
        Assert.Equal(["Input Tokens", "Cached Input Tokens", "Output Tokens"], chatRows.Select(r => r["SkuMeter"]));
        Assert.Equal(["3", "0", "0"], chatRows.Select(r => r["x_Requests"])); // each call counted once, on its group's first row
        Assert.Equal(["24", "12", "0"], chatRows.Select(r => r["x_InputTokens"])); // cached input is input, as in the ledger
        Assert.Equal(36, chatRows.Sum(r => long.Parse(r["x_InputTokens"]!, CultureInfo.InvariantCulture)));
        var chatRow = chatRows[0];
        Assert.Equal("focus, owned", chatRow["SubAccountName"]);
        Assert.Equal("24 uncached input tokens of mock/echo in 3 requests through Tollgate", chatRow["ChargeDescription"]);
        Assert.Equal(0.0000732m, chatRows.Sum(r => Dec(r["BilledCost"]))); // 3 × (8 × 1.00 + 4 × 0.10 + 8 × 2.00) per million
        Assert.All(chatRows, r => Assert.Equal(r["ListCost"], r["BilledCost"])); // prices of ≤ 4 decimals: nothing is rounded
        var tags = JsonDocument.Parse(chatRow["Tags"]!).RootElement;
        Assert.Equal(team, tags.GetProperty("team").GetString());
        Assert.Equal("search \"v2\"", tags.GetProperty("project").GetString());
        Assert.Equal("cc-7", tags.GetProperty("cost_center").GetString());
        Assert.Equal("Natural Language Processing", rows.Single(r => r["SubAccountId"] == ownedId && !chatRows.Contains(r))["ServiceSubcategory"]);
        Assert.All(rows.Where(r => r["SubAccountId"] == plainId), r => Assert.Equal("""{"feature":"digest"}""", r["Tags"]));

        // The same money as the ledger's own report for the range.
        var usage = await host.AdminJson(HttpMethod.Get, $"/admin/usage?{range}");
        Assert.Equal(usage[0].GetProperty("cost").GetDecimal(), rows.Sum(r => Dec(r["BilledCost"])));
        Assert.Equal(usage[0].GetProperty("requests").GetInt64(), rows.Sum(r => long.Parse(r["x_Requests"]!, CultureInfo.InvariantCulture)));

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
        // ListUnitPrice × PricingQuantity = ListCost holds in the typed columns too (ListCost has the scale it needs).
        var unitPrices = new decimal?[rows.Count];
        var quantities = new decimal?[rows.Count];
        var listCosts = new decimal[rows.Count];
        await group.ReadAsync<decimal>(fields.Single(f => f.Name == "ListUnitPrice"), unitPrices.AsMemory());
        await group.ReadAsync<decimal>(fields.Single(f => f.Name == "PricingQuantity"), quantities.AsMemory());
        await group.ReadAsync<decimal>(fields.Single(f => f.Name == "ListCost"), listCosts.AsMemory());
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(listCosts[i], unitPrices[i]!.Value * quantities[i]!.Value);
            Assert.Equal(Dec(rows[i]["ListCost"]), listCosts[i]);
        }

        var skus = new string?[rows.Count];
        await group.ReadAsync(fields.Single(f => f.Name == "SkuId"), skus.AsMemory());
        Assert.Equal(rows.Select(r => r["SkuId"]), skus);
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

    [Fact]
    public async Task A_call_with_cache_reads_and_writes_is_split_into_one_row_per_token_kind_at_its_unit_price()
    {
        var from = WholeSecond(DateTimeOffset.UtcNow);
        var (id, key) = await host.CreateKey();
        const string body = """{"model":"mock/echo","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""";
        using var response = await host.Proxy("/v1/messages", key, body, ("x-mock-prompt-tokens", "100"), ("x-mock-cached-tokens", "60"), ("x-mock-cache-write-tokens", "20"));
        Assert.Equal(200, (int)response.StatusCode);
        var record = Assert.Single(await host.Records(id));

        var rows = await ExportRows(from, id);
        Assert.Equal(["mock/echo/input", "mock/echo/cached-input", "mock/echo/cache-write", "mock/echo/output"], rows.Select(r => r["SkuId"]));
        Assert.Equal(["20", "60", "20", "5"], rows.Select(r => r["ConsumedQuantity"]));
        Assert.Equal(["0.00002", "0.00006", "0.00002", "0.000005"], rows.Select(r => r["PricingQuantity"]));
        Assert.Equal(["1", "0.1", "1.25", "2"], rows.Select(r => r["ListUnitPrice"]));
        Assert.Equal(["0.00002", "0.000006", "0.000025", "0.00001"], rows.Select(r => r["ListCost"]));
        Assert.Equal(["0.00002", "0.000006", "0.000025", "0.00001"], rows.Select(r => r["BilledCost"]));
        Assert.Equal(["1", "0", "0", "0"], rows.Select(r => r["x_Requests"]));
        Assert.Equal(record.Cost, rows.Sum(r => Dec(r["BilledCost"]))); // 20 × 1.00 + 60 × 0.10 + 20 × 1.25 + 5 × 2.00 = 61 per million
        Assert.Equal(record.Long("input_tokens"), rows.Sum(r => long.Parse(r["x_InputTokens"]!, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task The_export_keeps_the_unit_prices_a_call_was_charged_at_after_the_price_changes()
    {
        var from = WholeSecond(DateTimeOffset.UtcNow);
        var model = "repriced-" + Guid.NewGuid().ToString("N")[..8];
        await host.AdminJson(HttpMethod.Put, $"/admin/prices/mock/{model}", new { input_per_mtok = 3m, cached_input_per_mtok = 0.3m, cache_write_per_mtok = 3.75m, output_per_mtok = 15m });
        var (id, key) = await host.CreateKey();
        using var chat = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/" + model), ("x-mock-cached-tokens", "4"));
        Assert.Equal(200, (int)chat.StatusCode);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(30_000_000_000L, record.Long("input_price_e10"));
        Assert.Equal(150_000_000_000L, record.Long("output_price_e10"));

        await host.AdminJson(HttpMethod.Put, $"/admin/prices/mock/{model}", new { input_per_mtok = 5m, cached_input_per_mtok = 0.5m, cache_write_per_mtok = 6.25m, output_per_mtok = 25m });

        var rows = await ExportRows(from, id);
        Assert.Equal(["3", "0.3", "15"], rows.Select(r => r["ListUnitPrice"]));
        Assert.Equal([$"mock/{model}/input@3USD", $"mock/{model}/cached-input@0.3USD", $"mock/{model}/output@15USD"], rows.Select(r => r["SkuPriceId"]));
        Assert.All(rows, r => Assert.Equal("recorded", r["x_PriceSource"]));
        Assert.Equal(0.0001452m, rows.Sum(r => Dec(r["ListCost"]))); // 8 × 3 + 4 × 0.3 + 8 × 15 per million
        Assert.Equal(record.Cost, rows.Sum(r => Dec(r["BilledCost"])));
    }

    [Fact]
    public async Task Records_without_unit_prices_are_exported_at_todays_price_and_marked_so()
    {
        var from = WholeSecond(DateTimeOffset.UtcNow);
        var model = "old-" + Guid.NewGuid().ToString("N")[..8];
        await host.AdminJson(HttpMethod.Put, $"/admin/prices/mock/{model}", new { input_per_mtok = 1.5m, cached_input_per_mtok = 0.15m, cache_write_per_mtok = 1.875m, output_per_mtok = 6m });
        var (id, key) = await host.CreateKey();
        for (var i = 0; i < 2; i++)
        {
            using var chat = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/" + model), ("x-mock-cached-tokens", "4"));
            Assert.Equal(200, (int)chat.StatusCode);
        }

        var ledgerCost = (await host.Records(id)).Sum(r => r.Cost);
        Assert.Equal(0.0001212m, ledgerCost); // 2 × (8 × 1.5 + 4 × 0.15 + 8 × 6) per million

        // As a record written before the ledger kept unit prices reads.
        using (var connection = host.Services.GetRequiredService<Database>().Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                UPDATE usage SET unit_prices_recorded = 0, input_price_e10 = NULL, cached_input_price_e10 = NULL, cache_write_price_e10 = NULL, output_price_e10 = NULL
                WHERE key_id = @k
                """;
            Database.AddParameters(command, ("@k", id));
            Assert.Equal(2, command.ExecuteNonQuery());
        }

        await host.AdminJson(HttpMethod.Put, $"/admin/prices/mock/{model}", new { input_per_mtok = 2m, cached_input_per_mtok = 0.2m, cache_write_per_mtok = 2.5m, output_per_mtok = 8m });

        var rows = await ExportRows(from, id);
        Assert.All(rows, r => Assert.Equal("catalog", r["x_PriceSource"]));
        Assert.Equal(["2", "0.2", "8"], rows.Select(r => r["ListUnitPrice"]));
        Assert.Equal(["0.000032", "0.0000016", "0.000128"], rows.Select(r => r["ListCost"]));
        // The bill stays what the ledger charged, shared over the rows in proportion to their list costs.
        Assert.Equal(ledgerCost, rows.Sum(r => Dec(r["BilledCost"])));
        Assert.Equal(["0.000024", "0.0000012", "0.000096"], rows.Select(r => r["BilledCost"]));
    }

    [Fact]
    public async Task Export_totals_equal_the_ledger_when_unit_prices_have_more_decimals_than_a_call_keeps()
    {
        var from = WholeSecond(DateTimeOffset.UtcNow);
        var model = "fine-" + Guid.NewGuid().ToString("N")[..8];
        await host.AdminJson(HttpMethod.Put, $"/admin/prices/mock/{model}", new { input_per_mtok = 0.1234567891m, output_per_mtok = 0.3333333333m });
        var (id, key) = await host.CreateKey();
        for (var i = 0; i < 3; i++)
        {
            using var chat = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("mock/" + model));
            Assert.Equal(200, (int)chat.StatusCode);
        }

        // Each call is rounded to 1e-10 in the ledger: 12 × 0.1234567891 + 8 × 0.3333333333 per million = 0.0000041481|481356.
        var ledgerCost = (await host.Records(id)).Sum(r => r.Cost);
        Assert.Equal(3 * 0.0000041481m, ledgerCost);

        var rows = await ExportRows(from, id);
        Assert.Equal(["0.0000044444444076", "0.0000079999999992"], rows.Select(r => r["ListCost"])); // 36 × 0.1234567891, 24 × 0.3333333333
        Assert.NotEqual(ledgerCost, rows.Sum(r => Dec(r["ListCost"])));
        Assert.Equal(ledgerCost, rows.Sum(r => Dec(r["BilledCost"])));
        Assert.All(rows, r => Assert.InRange(Math.Abs(Dec(r["BilledCost"]) - Dec(r["ListCost"])), 0m, 3 * 0.0000000001m));

        // The 16-decimal list costs survive Parquet exactly.
        var to = WholeSecond(DateTimeOffset.UtcNow).AddSeconds(1);
        using var parquetResponse = await host.Admin(HttpMethod.Get, $"/admin/export/focus?{Range(from, to)}&format=parquet");
        using var file = new MemoryStream(await parquetResponse.Content.ReadAsByteArrayAsync());
        await using var parquet = await ParquetReader.CreateAsync(file);
        using var group = parquet.OpenRowGroupReader(0);
        var listCosts = new decimal[group.RowCount];
        await group.ReadAsync<decimal>(parquet.Schema.DataFields.Single(f => f.Name == "ListCost"), listCosts.AsMemory());
        Assert.Contains(0.0000079999999992m, listCosts);
    }

    [Fact]
    public async Task Calls_that_consumed_no_tokens_stay_counted_on_one_zero_quantity_row()
    {
        var from = WholeSecond(DateTimeOffset.UtcNow);
        var (id, key) = await host.CreateKey();
        for (var i = 0; i < 2; i++)
        {
            using var chat = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("x-mock-prompt-tokens", "0"), ("x-mock-completion-tokens", "0"));
            Assert.Equal(200, (int)chat.StatusCode);
        }

        Assert.All(await host.Records(id), r => Assert.Equal((0L, 0L), (r.Long("input_tokens"), r.Long("output_tokens"))));
        var row = Assert.Single(await ExportRows(from, id));
        Assert.Equal(("mock/echo/input", "0", "0", "2"), (row["SkuId"], row["ConsumedQuantity"], row["BilledCost"], row["x_Requests"]));
    }

    [Fact]
    public async Task A_ledger_without_the_unit_price_columns_gains_them_at_start_and_its_records_export_at_todays_price()
    {
        await using var old = new GatewayHost(s => (s.Postgres, s.Redis) = (null, null));
        Directory.CreateDirectory(old.DataDir);
        var ts = DateTimeOffset.UtcNow.AddHours(-2);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(old.DataDir, "tollgate.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // The ledger as the first release created it: no savings columns, no unit prices.
            command.CommandText = """
                CREATE TABLE usage (
                    id TEXT PRIMARY KEY, ts INTEGER NOT NULL, key_id TEXT,
                    "user" TEXT, team TEXT, project TEXT, cost_center TEXT, customer TEXT, feature TEXT, environment TEXT, agent TEXT, session TEXT,
                    operation TEXT NOT NULL, provider TEXT NOT NULL, requested_model TEXT NOT NULL, served_model TEXT, response_id TEXT,
                    stream INTEGER NOT NULL, input_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL, cost_e10 INTEGER NOT NULL, currency TEXT NOT NULL,
                    latency_ms REAL NOT NULL, ttft_ms REAL, status INTEGER NOT NULL, error_class TEXT, estimated INTEGER NOT NULL);
                INSERT INTO usage (id, ts, operation, provider, requested_model, stream, input_tokens, cached_tokens, cache_write_tokens, output_tokens,
                    reasoning_tokens, cost_e10, currency, latency_ms, status, estimated)
                VALUES ('old-record', @ts, 'chat', 'mock', 'mock/echo', 0, 12, 4, 0, 8, 0, 500000, 'USD', 10, 200, 0);
                """;
            command.Parameters.AddWithValue("@ts", ts.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        await old.InitializeAsync();

        var columns = old.ReadRows("SELECT name FROM pragma_table_info('usage')").Select(r => r.Text("name")).ToList();
        Assert.Subset(columns.ToHashSet(), new HashSet<string?> { "cache_savings_e10", "routing_savings_e10", "unit_prices_recorded", "input_price_e10", "cached_input_price_e10", "cache_write_price_e10", "output_price_e10" });
        var before = Assert.Single(old.ReadRows("SELECT * FROM usage WHERE id = 'old-record'"));
        Assert.Equal((0L, null), (before.Long("unit_prices_recorded"), before["input_price_e10"]));

        var from = WholeSecond(ts.AddHours(-1));
        var to = WholeSecond(DateTimeOffset.UtcNow).AddSeconds(1);
        using var response = await old.Admin(HttpMethod.Get, $"/admin/export/focus?{Range(from, to)}&format=csv");
        var (_, rows) = ParseCsv(await response.Content.ReadAsStringAsync());
        Assert.All(rows, r => CheckRow(r, from, to));
        Assert.Equal(["mock/echo/input", "mock/echo/cached-input", "mock/echo/output"], rows.Select(r => r["SkuId"]));
        Assert.All(rows, r => Assert.Equal("catalog", r["x_PriceSource"]));
        Assert.Equal(["1", "0.1", "2"], rows.Select(r => r["ListUnitPrice"])); // the test host's price of mock/* today
        Assert.Equal(0.00005m, rows.Sum(r => Dec(r["BilledCost"]))); // what the ledger charged then

        // A call made now is written with its unit prices into the migrated table.
        var (id, key) = await old.CreateKey();
        using var chat = await old.Proxy("/v1/chat/completions", key, GatewayHost.Chat(), ("x-mock-cached-tokens", "4"));
        Assert.Equal(200, (int)chat.StatusCode);
        var record = Assert.Single(await old.Records(id));
        Assert.Equal((1L, 10_000_000_000L, 1_000_000_000L, 12_500_000_000L, 20_000_000_000L), (record.Long("unit_prices_recorded"), record.Long("input_price_e10"),
            record.Long("cached_input_price_e10"), record.Long("cache_write_price_e10"), record.Long("output_price_e10")));
    }

    [PostgresFact]
    public async Task A_postgres_ledger_without_the_unit_price_columns_gains_them_at_start_and_copies_prices_and_nulls_in()
    {
        var name = await TestPostgres.CreateDatabaseAsync();
        try
        {
            using var db = new PostgresDatabase(TestPostgres.ConnectionString(name!));
            using (var connection = db.Open())
            using (var command = connection.CreateCommand())
            {
                // The ledger before unit prices: Migrate creates what is missing and adds the columns to this table.
                command.CommandText = """
                    CREATE TABLE usage (
                        id TEXT PRIMARY KEY, ts BIGINT NOT NULL, key_id TEXT,
                        "user" TEXT, team TEXT, project TEXT, cost_center TEXT, customer TEXT, feature TEXT, environment TEXT, agent TEXT, session TEXT,
                        operation TEXT NOT NULL, provider TEXT NOT NULL, requested_model TEXT NOT NULL, served_model TEXT, response_id TEXT,
                        stream BIGINT NOT NULL, input_tokens BIGINT NOT NULL, cached_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL,
                        output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL, cost_e10 BIGINT NOT NULL, currency TEXT NOT NULL,
                        latency_ms DOUBLE PRECISION NOT NULL, ttft_ms DOUBLE PRECISION, status BIGINT NOT NULL, error_class TEXT, estimated BIGINT NOT NULL,
                        cache_savings_e10 BIGINT NOT NULL DEFAULT 0, routing_savings_e10 BIGINT NOT NULL DEFAULT 0);
                    INSERT INTO usage (id, ts, operation, provider, requested_model, stream, input_tokens, cached_tokens, cache_write_tokens, output_tokens,
                        reasoning_tokens, cost_e10, currency, latency_ms, status, estimated)
                    VALUES ('old-record', 0, 'chat', 'mock', 'mock/echo', 0, 12, 4, 0, 8, 0, 500000, 'USD', 10, 200, 0);
                    """;
                command.ExecuteNonQuery();
            }

            db.Migrate();
            UsageRecord Record(string id) => new() { Id = id, Timestamp = DateTimeOffset.UtcNow, Operation = "chat", Provider = "mock", RequestedModel = "mock/echo" };
            var priced = Record("priced");
            priced.ChargeAt(new ModelPrice(1.5m, 0.15m, 1.875m, 6m, "USD"));
            var unpriced = Record("unpriced");
            unpriced.ChargeAt(null);
            using (var sink = db.OpenLedgerSink())
            {
                sink.Write([priced, unpriced]);
            }

            using var read = db.Open();
            using var select = read.CreateCommand();
            select.CommandText = "SELECT id, unit_prices_recorded, input_price_e10, cached_input_price_e10, cache_write_price_e10, output_price_e10 FROM usage ORDER BY id";
            using var r = await select.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await r.ReadAsync())
            {
                rows.Add(string.Join(' ', Enumerable.Range(0, 6).Select(i => r.IsDBNull(i) ? "null" : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture))));
            }

            Assert.Equal(["old-record 0 null null null null", "priced 1 15000000000 1500000000 18750000000 60000000000", "unpriced 1 null null null null"], rows);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(name);
        }
    }

    [Fact]
    public void The_ledger_spool_carries_the_unit_prices_and_reads_older_lines_as_unpriced()
    {
        var path = Path.Combine(Path.GetTempPath(), "tollgate-spool-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            UsageRecord Record(string id) => new() { Id = id, Timestamp = DateTimeOffset.UtcNow, Operation = "chat", Provider = "mock", RequestedModel = "mock/echo" };
            var priced = Record("priced");
            priced.ChargeAt(new ModelPrice(1.5m, 0.15m, 1.875m, 6m, "USD"));
            var unpriced = Record("unpriced");
            unpriced.ChargeAt(null);
            var spool = new LedgerSpool(path);
            spool.Append([priced, unpriced]);
            // A line spooled by a release from before unit prices.
            File.AppendAllText(path, """{"id":"older","timestamp":"2026-11-01T00:00:00+00:00","operation":"chat","provider":"mock","requested_model":"mock/echo","cost":0.5}""" + "\n");

            var replayed = new List<UsageRecord>();
            Assert.Equal(3, spool.Replay(replayed.AddRange, 10));
            Assert.Equal((true, 1.5m, 0.15m, 1.875m, 6m), (replayed[0].UnitPricesRecorded, replayed[0].InputPerMtok, replayed[0].CachedInputPerMtok, replayed[0].CacheWritePerMtok, replayed[0].OutputPerMtok));
            Assert.Equal((true, null, null), (replayed[1].UnitPricesRecorded, replayed[1].InputPerMtok, replayed[1].OutputPerMtok));
            Assert.Equal((false, null), (replayed[2].UnitPricesRecorded, replayed[2].InputPerMtok));

            // And the sinks get them as 1e-10 units, null for none.
            var values = Database.UsageValues(replayed[0]);
            Assert.Equal(18_750_000_000L, values[Array.IndexOf(Database.UsageColumns, "cache_write_price_e10")]);
            Assert.Null(Database.UsageValues(replayed[1])[Array.IndexOf(Database.UsageColumns, "output_price_e10")]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The CSV export from <paramref name="from"/> to now, every row checked, keeping one key's rows.</summary>
    private async Task<List<Dictionary<string, string?>>> ExportRows(DateTimeOffset from, string keyId)
    {
        var to = WholeSecond(DateTimeOffset.UtcNow).AddSeconds(1);
        using var response = await host.Admin(HttpMethod.Get, $"/admin/export/focus?{Range(from, to)}&format=csv");
        var (_, rows) = ParseCsv(await response.Content.ReadAsStringAsync());
        foreach (var row in rows)
        {
            CheckRow(row, from, to);
        }

        return rows.Where(r => r["SubAccountId"] == keyId).ToList();
    }

    private static string Range(DateTimeOffset from, DateTimeOffset to) => $"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}";

    private static decimal Dec(string? value) => decimal.Parse(value!, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static DateTimeOffset WholeSecond(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    /// <summary>The row rules of FOCUS 1.2 that apply to usage rows.</summary>
    private static void CheckRow(IReadOnlyDictionary<string, string?> row, DateTimeOffset from, DateTimeOffset to)
    {
        // NullHandling: no empty strings or placeholders; null is an empty CSV field.
        foreach (var name in NotNull)
        {
            Assert.False(string.IsNullOrWhiteSpace(row[name]), $"{name} must not be null");
        }

        foreach (var name in Decimals.Concat(row.Keys.Where(k => k.StartsWith("x_", StringComparison.Ordinal) && k is not ("x_Model" or "x_PriceSource"))))
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

        // Costs: no discounts or commitments, so contracted = list and effective = billed; billed is the ledger's cost,
        // list the unit price times the quantity, exactly.
        Assert.Equal(row["BilledCost"], row["EffectiveCost"]);
        Assert.Equal(row["ListCost"], row["ContractedCost"]);
        Assert.Equal(row["ListUnitPrice"], row["ContractedUnitPrice"]);
        Assert.Equal(Dec(row["ListCost"]), Dec(row["ListUnitPrice"]) * Dec(row["PricingQuantity"]));
        Assert.Equal("Standard", row["PricingCategory"]);
        Assert.Contains(row["x_PriceSource"], new[] { "recorded", "catalog", "none" });

        // SKUs: one per model and token kind, priced per million tokens; the price id names the unit price.
        var kind = Assert.Single(Kinds, k => row["SkuId"] == row["x_Model"] + "/" + k);
        Assert.Equal($"{row["SkuId"]}@{row["ListUnitPrice"]}{row["BillingCurrency"]}", row["SkuPriceId"]);
        Assert.False(string.IsNullOrEmpty(row["SkuMeter"]));

        // A row's x_ token columns hold its own kind's tokens only, so they sum over rows to the ledger's figures.
        var quantity = row["ConsumedQuantity"];
        Assert.Equal(kind == "output" ? "0" : quantity, row["x_InputTokens"]);
        Assert.Equal(kind == "output" ? quantity : "0", row["x_OutputTokens"]);
        Assert.Equal(kind == "cached-input" ? quantity : "0", row["x_CachedInputTokens"]);
        Assert.Equal(kind == "cache-write" ? quantity : "0", row["x_CacheWriteInputTokens"]);

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

using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Tollgate.Gateway.Admin;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Reports;

/// <summary>
/// <c>GET /admin/export/focus?from=&amp;to=&amp;format=csv|parquet</c>: the ledger as FOCUS 1.2 cost and usage rows, streamed
/// straight from the database cursor. One ledger group per UTC hour, virtual key, provider, model, currency, attribution
/// (user, team, project, cost center, customer, feature, environment) and unit prices charged, split into one row per
/// token kind (uncached input, cached input, cache write, output); docs/focus-mapping.md maps every column.
/// </summary>
internal static class FocusExport
{
    private const int RowGroupSize = 50_000;
    private const long HourMs = 3_600_000;

    /// <summary>The FOCUS columns first, then Tollgate's <c>x_</c> columns (ColumnHandling).</summary>
    public static readonly FocusColumn[] Columns =
    [
        new("BilledCost", FocusType.Number, false, r => r.BilledCost),
        new("BillingAccountId", FocusType.Text, false, r => r.Group.Provider),
        new("BillingAccountName", FocusType.Text, false, r => r.Group.Provider),
        new("BillingCurrency", FocusType.Text, false, r => r.Group.Currency),
        new("BillingPeriodEnd", FocusType.Timestamp, false, r => r.Group.BillingPeriodEnd),
        new("BillingPeriodStart", FocusType.Timestamp, false, r => r.Group.BillingPeriodStart),
        new("ChargeCategory", FocusType.Text, false, _ => "Usage"),
        new("ChargeClass", FocusType.Text, true, _ => null),
        new("ChargeDescription", FocusType.Text, true, r => r.Description),
        new("ChargeFrequency", FocusType.Text, false, _ => "Usage-Based"),
        new("ChargePeriodEnd", FocusType.Timestamp, false, r => r.Group.ChargePeriodEnd),
        new("ChargePeriodStart", FocusType.Timestamp, false, r => r.Group.ChargePeriodStart),
        new("ConsumedQuantity", FocusType.Number, true, r => (decimal)r.Quantity),
        new("ConsumedUnit", FocusType.Text, true, _ => "Tokens"),
        new("ContractedCost", FocusType.Number, false, r => r.ListCost, ExactScale),
        new("ContractedUnitPrice", FocusType.Number, true, r => r.UnitPrice),
        new("EffectiveCost", FocusType.Number, false, r => r.BilledCost),
        new("InvoiceId", FocusType.Text, true, _ => null),
        new("InvoiceIssuerName", FocusType.Text, false, r => r.Group.ProviderName),
        new("ListCost", FocusType.Number, false, r => r.ListCost, ExactScale),
        new("ListUnitPrice", FocusType.Number, true, r => r.UnitPrice),
        new("PricingCategory", FocusType.Text, true, _ => "Standard"),
        new("PricingQuantity", FocusType.Number, true, r => r.PricingQuantity),
        new("PricingUnit", FocusType.Text, true, _ => "1000000 Tokens"),
        new("ProviderName", FocusType.Text, false, r => r.Group.ProviderName),
        new("PublisherName", FocusType.Text, false, r => r.Group.ProviderName),
        new("ServiceCategory", FocusType.Text, false, _ => "AI and Machine Learning"),
        new("ServiceName", FocusType.Text, false, r => r.Group.ServiceName),
        new("ServiceSubcategory", FocusType.Text, false, r => r.Group.Operation == "embeddings" ? "Natural Language Processing" : "Generative AI"),
        new("SkuId", FocusType.Text, false, r => r.SkuId),
        new("SkuMeter", FocusType.Text, true, r => r.SkuMeter),
        new("SkuPriceId", FocusType.Text, true, r => r.SkuPriceId),
        new("SubAccountId", FocusType.Text, true, r => r.Group.KeyId),
        new("SubAccountName", FocusType.Text, true, r => r.Group.KeyId is null ? null : r.Group.KeyName ?? r.Group.KeyId),
        new("Tags", FocusType.Json, true, r => r.Group.Tags),
        new("x_Model", FocusType.Text, false, r => r.Group.Model),
        new("x_PriceSource", FocusType.Text, false, r => r.Group.PriceSource),
        new("x_Requests", FocusType.Number, false, r => (decimal)r.Requests),
        new("x_InputTokens", FocusType.Number, false, r => (decimal)r.InputTokens),
        new("x_CachedInputTokens", FocusType.Number, false, r => (decimal)r.CachedInputTokens),
        new("x_CacheWriteInputTokens", FocusType.Number, false, r => (decimal)r.CacheWriteInputTokens),
        new("x_OutputTokens", FocusType.Number, false, r => (decimal)r.OutputTokens),
        new("x_ReasoningTokens", FocusType.Number, false, r => (decimal)r.ReasoningTokens),
    ];

    /// <summary>
    /// Parquet scale of the list and contracted costs: a unit price (10 decimals) times millions of tokens (6) has up to
    /// 16 decimals, and ListUnitPrice × PricingQuantity = ListCost must hold without rounding.
    /// </summary>
    private const int ExactScale = 16;

    public static async Task<IResult> HandleAsync(HttpContext http, Database db, UsageQuery query, PriceCatalog prices, ProviderRegistry providers, TimeProvider time)
    {
        var (from, to, error) = AdminEndpoints.TimeRange(http.Request, time);
        if (error is not null)
        {
            return error;
        }

        // FOCUS times have whole seconds: the range is taken to the second, so a clipped period is written as it is.
        (from, to) = (WholeSeconds(from), WholeSeconds(to));

        var format = http.Request.Query["format"].ToString() is { Length: > 0 } f ? f : "csv";
        if (format is not ("csv" or "parquet"))
        {
            return AdminEndpoints.Invalid("'format' must be csv or parquet.", "format");
        }

        await query.CatchUpAsync(http.RequestAborted);
        var name = $"focus-{from.UtcDateTime:yyyyMMddTHHmmss}-{to.UtcDateTime:yyyyMMddTHHmmss}.{format}";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        http.Response.ContentType = format == "csv" ? "text/csv; charset=utf-8" : "application/vnd.apache.parquet";
        using var connection = db.Open();
        using var command = Query(connection, from, to);
        using var reader = await command.ExecuteReaderAsync(http.RequestAborted);
        var rows = Split(Read(reader, from, to, (provider, model) => TodaysPrice(prices, providers, provider, model)));
        if (format == "csv")
        {
            await WriteCsvAsync(http.Response.Body, rows, http.RequestAborted);
        }
        else
        {
            await WriteParquetAsync(http.Response.Body, rows, http.RequestAborted);
        }

        return Results.Empty;
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static DbCommand Query(DbConnection connection, DateTimeOffset from, DateTimeOffset to)
    {
        const string Groups = "u.ts / 3600000, u.key_id, k.name, u.provider, p.kind, u.requested_model, u.operation, u.currency, u.\"user\", u.team, u.project, u.cost_center, u.customer, u.feature, u.environment, "
            + "u.unit_prices_recorded, u.input_price_e10, u.cached_input_price_e10, u.cache_write_price_e10, u.output_price_e10";
        var command = connection.CreateCommand();
        // Uncached input is summed per call, clamped at 0 as ModelPrice.Cost does, so the rows price what the ledger priced.
        command.CommandText = $"""
            SELECT {Groups}, COUNT(*),
                SUM(CASE WHEN u.input_tokens > u.cached_tokens + u.cache_write_tokens THEN u.input_tokens - u.cached_tokens - u.cache_write_tokens ELSE 0 END),
                SUM(u.cached_tokens), SUM(u.cache_write_tokens), SUM(u.output_tokens), SUM(u.reasoning_tokens), SUM(u.cost_e10)
            FROM usage u LEFT JOIN keys k ON k.id = u.key_id LEFT JOIN providers p ON p.name = u.provider
            WHERE u.ts >= @from AND u.ts < @to
            GROUP BY {Groups}
            ORDER BY {Groups}
            """;
        Database.AddParameters(command, ("@from", from.ToUnixTimeMilliseconds()));
        Database.AddParameters(command, ("@to", to.ToUnixTimeMilliseconds()));
        return command;
    }

    private static IEnumerable<FocusRow> Split(IEnumerable<FocusGroup> groups)
    {
        foreach (var group in groups)
        {
            foreach (var row in group.Split())
            {
                yield return row;
            }
        }
    }

    /// <summary>
    /// The catalog's price today for calls recorded before the ledger kept unit prices: the requested model's, as
    /// <c>provider/model</c> names it, rounded to 10 decimals as recorded prices are.
    /// </summary>
    private static ModelPrice? TodaysPrice(PriceCatalog prices, ProviderRegistry providers, string providerName, string model)
    {
        if (providers.Find(providerName) is not { } provider)
        {
            return null;
        }

        var upstream = model.StartsWith(providerName + "/", StringComparison.Ordinal) ? model[(providerName.Length + 1)..] : model;
        return prices.Find(provider, upstream) is { } p
            ? p with { InputPerMtok = Tenth(p.InputPerMtok), CachedInputPerMtok = Tenth(p.CachedInputPerMtok), CacheWritePerMtok = Tenth(p.CacheWritePerMtok), OutputPerMtok = Tenth(p.OutputPerMtok) }
            : null;

        static decimal Tenth(decimal price) => Money.FromE10(Money.ToE10(price));
    }

    private static IEnumerable<FocusGroup> Read(DbDataReader r, DateTimeOffset from, DateTimeOffset to, Func<string, string, ModelPrice?> todaysPrice)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        long Number(int i) => r.IsDBNull(i) ? 0 : Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);
        decimal? Price(int i) => r.IsDBNull(i) ? null : Money.FromE10(Number(i));
        while (r.Read())
        {
            var hour = DateTimeOffset.FromUnixTimeMilliseconds(Number(0) * HourMs);
            var provider = Text(3)!;
            var (providerName, serviceName) = Text(4) switch
            {
                "openai" => ("OpenAI", "OpenAI API"),
                "anthropic" => ("Anthropic", "Anthropic API"),
                "azure_openai" => ("Microsoft", "Azure OpenAI"),
                _ => (provider, provider + " API"),
            };
            var model = Text(5)!;
            var currency = Text(7)!;

            // Recorded prices are all set or all null (the model had none); a call from before they were kept is
            // priced at today's catalog price when that price is in the currency the call was charged in.
            (decimal, decimal, decimal, decimal) prices = (0, 0, 0, 0);
            var source = "none";
            if (Number(15) == 1)
            {
                if (Price(16) is { } input)
                {
                    prices = (input, Price(17) ?? 0, Price(18) ?? 0, Price(19) ?? 0);
                    source = "recorded";
                }
            }
            else if (todaysPrice(provider, model) is { } today && today.Currency == currency)
            {
                prices = (today.InputPerMtok, today.CachedInputPerMtok, today.CacheWritePerMtok, today.OutputPerMtok);
                source = "catalog";
            }

            var monthStart = new DateTimeOffset(hour.Year, hour.Month, 1, 0, 0, 0, TimeSpan.Zero);
            yield return new FocusGroup
            {
                // The hour, cut to the export's range so a row never claims time outside it.
                ChargePeriodStart = hour < from ? from : hour,
                ChargePeriodEnd = hour.AddHours(1) > to ? to : hour.AddHours(1),
                BillingPeriodStart = monthStart,
                BillingPeriodEnd = monthStart.AddMonths(1),
                KeyId = Text(1),
                KeyName = Text(2),
                Provider = provider,
                ProviderName = providerName,
                ServiceName = serviceName,
                Model = model,
                Operation = Text(6)!,
                Currency = currency,
                Tags = Tags(("user", Text(8)), ("team", Text(9)), ("project", Text(10)), ("cost_center", Text(11)), ("customer", Text(12)), ("feature", Text(13)), ("environment", Text(14))),
                Prices = prices,
                PriceSource = source,
                Requests = Number(20),
                Uncached = Number(21),
                Cached = Number(22),
                CacheWrite = Number(23),
                Output = Number(24),
                Reasoning = Number(25),
                Cost = Money.FromE10(Number(26)),
            };
        }
    }

    /// <summary>The attribution as user-defined tags (KeyValueFormat: a JSON object of strings, unprefixed); null when there is none.</summary>
    private static string? Tags(params ReadOnlySpan<(string Key, string? Value)> tags)
    {
        var any = false;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOutput.WriterOptions))
        {
            json.WriteStartObject();
            foreach (var (key, value) in tags)
            {
                if (value is not null)
                {
                    json.WriteString(key, value);
                    any = true;
                }
            }

            json.WriteEndObject();
        }

        return any ? Encoding.UTF8.GetString(buffer.ToArray()) : null;
    }

    private static async Task WriteCsvAsync(Stream body, IEnumerable<FocusRow> rows, CancellationToken cancel)
    {
        await using var csv = new StreamWriter(body, new UTF8Encoding(false), 64 * 1024) { NewLine = "\n" };
        await csv.WriteLineAsync(string.Join(',', Columns.Select(c => c.Name)));
        var line = new StringBuilder();
        foreach (var row in rows)
        {
            line.Clear();
            for (var i = 0; i < Columns.Length; i++)
            {
                if (i > 0)
                {
                    line.Append(',');
                }

                line.Append(Csv(Columns[i].Value(row)));
            }

            await csv.WriteLineAsync(line, cancel);
        }
    }

    /// <summary>DateTimeFormat (<c>YYYY-MM-DDTHH:mm:ssZ</c>), NumericFormat (plain decimals), RFC 4180 quoting; null is an empty field.</summary>
    private static string Csv(object? value) => value switch
    {
        null => "",
        DateTimeOffset time => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        decimal number => Money.Trim(number).ToString(CultureInfo.InvariantCulture),
        string text => ReportEndpoints.CsvField(text),
        _ => throw new InvalidOperationException($"No FOCUS form for {value.GetType().Name}."),
    };

    private static async Task WriteParquetAsync(Stream body, IEnumerable<FocusRow> rows, CancellationToken cancel)
    {
        var fields = Columns.Select(c => c.Type switch
        {
            FocusType.Number => (DataField)new DecimalDataField(c.Name, 38, c.Scale, isNullable: c.Nullable),
            FocusType.Timestamp => new DateTimeDataField(c.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: c.Nullable),
            _ => new DataField(c.Name, typeof(string), isNullable: c.Nullable),
        }).ToArray();
        var schema = new ParquetSchema(fields);
        // The response cannot seek or tell its position, which the writer asks for: count what goes out instead.
        await using var output = new CountingStream(body);
        await using var writer = await ParquetWriter.CreateAsync(schema, output, cancellationToken: cancel);
        foreach (var group in rows.Chunk(RowGroupSize))
        {
            using var rowGroup = writer.CreateRowGroup();
            for (var i = 0; i < Columns.Length; i++)
            {
                var column = Columns[i];
                var values = group.Select(column.Value).ToArray();
                switch (column.Type)
                {
                    case FocusType.Number when column.Nullable:
                        await rowGroup.WriteAsync<decimal>(fields[i], values.Select(v => (decimal?)v).ToArray().AsMemory(), cancellationToken: cancel);
                        break;
                    case FocusType.Number:
                        await rowGroup.WriteAsync<decimal>(fields[i], values.Select(v => (decimal)v!).ToArray().AsMemory(), cancellationToken: cancel);
                        break;
                    case FocusType.Timestamp:
                        await rowGroup.WriteAsync<DateTime>(fields[i], values.Select(v => ((DateTimeOffset)v!).UtcDateTime).ToArray().AsMemory(), cancellationToken: cancel);
                        break;
                    default:
                        await rowGroup.WriteAsync(fields[i], values.Select(v => (string?)v).ToArray()!);
                        break;
                }
            }
        }
    }

    /// <summary>A write-only pass-through that knows how many bytes it has written.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Write asynchronously: the response body does not allow synchronous I/O.");

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            _written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>FOCUS data types: String, Decimal, Date/Time, and JSON (KeyValueFormat, written as a string).</summary>
internal enum FocusType
{
    Text,
    Number,
    Timestamp,
    Json,
}

/// <summary>One FOCUS column: its ID, data type, whether it may be null, its value for a row, and its Parquet decimal scale.</summary>
internal sealed record FocusColumn(string Name, FocusType Type, bool Nullable, Func<FocusRow, object?> Value, int Scale = 10);

using System.IO.Pipelines;
using System.Net.Http.Json;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Tollgate.Gateway.Governance;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;
using Tollgate.Gateway.Storage;
using Tollgate.Gateway.Telemetry;

namespace Tollgate.Benchmarks;

/// <summary>
/// The pieces every proxied call runs, on a real gateway (its services, SQLite file and in-process counters) set up as
/// bench/run.sh sets it up: a key with RPM/TPM limits and a monthly budget, a team budget and a daily quota rule.
/// </summary>
public class HotPathBenchmarks
{
    private const string MasterKey = "tg-bench-master";
    private const int LedgerBatch = 2_000;

    private static readonly byte[] ChatBody = Encoding.UTF8.GetBytes(
        """{"model":"mock/echo","max_tokens":16,"messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"How much does this call cost?"}]}""");

    private WebApplication _app = null!;
    private DirectoryInfo _dir = null!;
    private string _secret = null!;
    private VirtualKey _key = null!;
    private Provider _provider = null!;
    private Attribution _attribution;
    private KeyService _keys = null!;
    private Governor _governor = null!;
    private GatewayTelemetry _telemetry = null!;
    private readonly Microsoft.AspNetCore.Http.HeaderDictionary _noHeaders = [];
    private LedgerWriter _ledger = null!;
    private ILedgerSink _sink = null!;
    private byte[] _stream = null!;
    private UsageRecord _settled = null!;
    private UsageRecord[] _batch = [];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _dir = Directory.CreateTempSubdirectory("tollgate-bench-");
        _app = await TollgateApp.BuildAsync(["--data-dir", _dir.FullName, "--urls", "http://127.0.0.1:0"], s => s.MasterKey = MasterKey);
        await _app.StartAsync();
        using var admin = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", MasterKey);
        async Task<System.Text.Json.JsonElement> Send(HttpMethod method, string path, object body)
        {
            using var response = await admin.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        }

        await Send(HttpMethod.Post, "/admin/providers", new { name = "mock", kind = "openai_compatible", base_url = "http://127.0.0.1:9/v1" });
        await Send(HttpMethod.Put, "/admin/prices/mock/echo", new { input_per_mtok = 1, output_per_mtok = 2 });
        var created = await Send(HttpMethod.Post, "/admin/keys", new
        {
            name = "bench",
            owner = new { team = "bench" },
            limits = new { rpm = 100_000_000, tpm = 1_000_000_000_000 },
            budget = new { period = "month", hard = 1_000_000 },
        });
        _secret = created.GetProperty("key").GetString()!;
        var keyId = created.GetProperty("id").GetString()!;
        await Send(HttpMethod.Post, "/admin/quota-rules", new { name = "bench", limit_tokens = 1_000_000_000_000, cycle = "day", consumers = new[] { "key:" + keyId, "team:bench" } });
        await Send(HttpMethod.Post, "/admin/budgets", new { scope = "team", subject = "bench", period = "day", hard = 1_000_000 });

        var services = _app.Services;
        _keys = services.GetRequiredService<KeyService>();
        _governor = services.GetRequiredService<Governor>();
        _telemetry = services.GetRequiredService<GatewayTelemetry>();
        var settings = services.GetRequiredService<GatewaySettings>();
        _ledger = new LedgerWriter(new DiscardingLedger(services.GetRequiredService<Database>()), settings, NullLogger<LedgerWriter>.Instance);
        await _ledger.StartAsync(CancellationToken.None);
        _key = _keys.Authenticate(_secret) ?? throw new InvalidOperationException("The benchmark key does not authenticate.");
        _provider = services.GetRequiredService<ProviderRegistry>().Find("mock") ?? throw new InvalidOperationException("No provider.");
        _attribution = default(Attribution) with { Team = "bench" };
        _settled = NewRecord();
        _settled.InputTokens = 12;
        _settled.OutputTokens = 8;
        _settled.Cost = 0.000028m;
        _stream = BuildStream(words: 64);
        _sink = services.GetRequiredService<Database>().OpenLedgerSink();

        // Each piece must do its job here, or its timing means nothing.
        foreach (var line in Encoding.UTF8.GetString(_stream).Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal)))
        {
            System.Text.Json.JsonDocument.Parse(line[6..]).Dispose();
        }

        var meter = await RelayStreamAsync();
        if (meter.Result(() => 0).Usage is not { Input: 12, Output: 64 })
        {
            throw new InvalidOperationException("The SSE benchmark stream was not metered.");
        }

        if ((await _governor.ReserveAsync(_key, _attribution, _provider, "mock/echo", "echo", ChatBody, 16)).Lease is null)
        {
            throw new InvalidOperationException("The benchmark key was refused.");
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _sink.Dispose();
        await _ledger.StopAsync(CancellationToken.None);
        await _app.StopAsync();
        await _app.DisposeAsync();
        _dir.Delete(recursive: true);
    }

    /// <summary>Bearer secret → virtual key: hash, then dictionary look-up.</summary>
    [Benchmark]
    public object? KeyLookup() => _keys.Authenticate(_secret); // object: the gateway's types are internal

    /// <summary>The tokenizer estimate of a chat request's input, taken before a governed call is forwarded.</summary>
    [Benchmark]
    public long InputEstimate() => TokenEstimator.EstimateInput(ChatBody);

    /// <summary>
    /// Governance of one call: every limit of the benchmark key (RPM, TPM, key and team budgets, quota rule for key and team)
    /// reserved all-or-nothing with the input estimate, then settled with the actual usage.
    /// </summary>
    [Benchmark]
    public async Task ReserveAndSettle()
    {
        var (lease, _, _) = await _governor.ReserveAsync(_key, _attribution, _provider, "mock/echo", "echo", ChatBody, 16);
        await lease!.SettleAsync(_settled);
    }

    /// <summary>The metrics of one settled call (OpenTelemetry histograms and counters feeding /metrics; no span listener).</summary>
    [Benchmark]
    public void TelemetryRecord() => _telemetry.Record(_settled, _provider, "stop", _noHeaders);

    /// <summary>Relays a 64-chunk chat completion stream (plus the usage chunk) and extracts its usage.</summary>
    [Benchmark]
    public async Task<object> SseUsageExtraction() => await RelayStreamAsync();

    /// <summary>
    /// Hands one usage record to a ledger writer: the bounded channel and the batching loop behind it. That writer's
    /// sink discards, so this is what a call pays, not SQLite (<see cref="SqliteLedgerWrite"/>, which is slower than
    /// enqueueing and would otherwise set the pace through back-pressure).
    /// </summary>
    [Benchmark]
    public ValueTask LedgerEnqueue() => _ledger.EnqueueAsync(NewRecord());

    [IterationSetup(Target = nameof(SqliteLedgerWrite))]
    public void NewBatch() => _batch = [.. Enumerable.Range(0, LedgerBatch).Select(_ => NewRecord())];

    /// <summary>One record of a 2,000-record batch written to the SQLite ledger (records/s = 1 / this).</summary>
    [Benchmark(OperationsPerInvoke = LedgerBatch)]
    public void SqliteLedgerWrite() => _sink.Write(_batch);

    private async Task<UsageMeter> RelayStreamAsync()
    {
        var meter = ProviderProtocol.ChatCompletions.CreateMeter(false);
        using (var deadline = new UpstreamDeadline(TimeSpan.FromMinutes(5), null, CancellationToken.None))
        using (var relay = new SseRelay(new MemoryStream(_stream, writable: false), PipeWriter.Create(Stream.Null), meter, deadline, 16 * 1024 * 1024))
        {
            await relay.RelayUntilUsageAsync(static () => { });
            await relay.FinishAsync();
        }

        meter.Dispose();
        return meter;
    }

    private UsageRecord NewRecord() => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        Timestamp = DateTimeOffset.UtcNow,
        KeyId = _key.Id,
        Attribution = _attribution,
        Operation = "chat",
        Provider = "mock",
        RequestedModel = "mock/echo",
        ServedModel = "echo",
        InputTokens = 12,
        OutputTokens = 8,
        Cost = 0.000028m,
        Currency = "USD",
        LatencyMs = 0.4,
        Status = 200,
    };

    private static byte[] BuildStream(int words)
    {
        var sse = new StringBuilder();
        const string Head = """{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764000000,"model":"echo",""";
        for (var i = 0; i < words; i++)
        {
            sse.Append("data: ").Append(Head).Append("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token ").Append(i).Append("\"},\"finish_reason\":null}]}\n\n");
        }

        sse.Append("data: ").Append(Head).Append("\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        sse.Append("data: ").Append(Head).Append("\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":").Append(words).Append(",\"total_tokens\":").Append(12 + words).Append("}}\n\n");
        sse.Append("data: [DONE]\n\n");
        return Encoding.UTF8.GetBytes(sse.ToString());
    }

    /// <summary>The gateway's database with a ledger sink that drops every batch.</summary>
    private sealed class DiscardingLedger(Database inner) : Database
    {
        public override System.Data.Common.DbConnection Open() => inner.Open();

        public override void Migrate() => inner.Migrate();

        public override string DayOf(string column) => inner.DayOf(column);

        public override string MonthOf(string column) => inner.MonthOf(column);

        public override ILedgerSink OpenLedgerSink() => new Discard();

        private sealed class Discard : ILedgerSink
        {
            public void Write(IReadOnlyList<UsageRecord> batch)
            {
            }

            public void Dispose()
            {
            }
        }
    }
}

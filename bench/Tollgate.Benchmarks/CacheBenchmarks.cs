using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Tollgate.Gateway.Caching;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Storage;

namespace Tollgate.Benchmarks;

/// <summary>
/// The response cache's own costs per call: the exact key of a chat request, an in-process store hit, a stored answer
/// written as a stream, the semantic guard on a short and a 40 KB pair, and one embedding of a prompt by the in-process
/// model (its inverse is the throughput of one core).
/// </summary>
public class CacheBenchmarks
{
    private static readonly byte[] Request = Encoding.UTF8.GetBytes("""
        {"model":"openai/gpt-4o-mini","max_tokens":256,"temperature":0.2,"messages":[{"role":"system","content":"You are the support assistant of Acme. Answer briefly and cite the documentation."},{"role":"user","content":"How do I rotate my API key without downtime for the services that use it?"}]}
        """);

    private static readonly byte[] Answer = Encoding.UTF8.GetBytes("""
        {"id":"chatcmpl-1","object":"chat.completion","created":1764500000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Create a second key, deploy it to every service, check that the old key no longer sees traffic in the usage report, then revoke it. Tollgate keys can overlap for as long as you need.","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":48,"completion_tokens":41,"total_tokens":89}}
        """);

    /// <summary>A pasted page of 40 KB, as a long prompt the guard compares.</summary>
    private static readonly string Page = string.Concat(Enumerable.Repeat("The invoice lists every order of the month with its tax, and no refund is due. ", 500));

    private readonly ArrayBufferWriter<byte> _output = new(8192);
    private JsonDocument _document = null!;
    private MemoryCacheStore _store = null!;
    private TextEmbedder _embedder = null!;
    private byte[] _key = [];

    [GlobalSetup]
    public void Setup()
    {
        _document = JsonDocument.Parse(Request);
        _key = CacheKey.Compute("key:k1", "openai/gpt-4o-mini", "/v1/chat/completions", _document.RootElement);
        _store = new MemoryCacheStore(64L * 1024 * 1024, TimeProvider.System);
        _store.SetAsync("key:k1", _key, new CacheEntry(0, "openai", "gpt-4o-mini", new TokenUsage(48, 0, 0, 41, 0), Answer), TimeSpan.FromHours(1)).AsTask().Wait();
        _embedder = new TextEmbedder();
        _embedder.Warm();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _document.Dispose();
        _embedder.Dispose();
    }

    [Benchmark]
    public byte[] ExactKey() => CacheKey.Compute("key:k1", "openai/gpt-4o-mini", "/v1/chat/completions", _document.RootElement);

    [Benchmark]
    public bool MemoryStoreHit() => _store.GetAsync("key:k1", _key).Result is not null;

    [Benchmark]
    public int AnswerAsStream()
    {
        _output.ResetWrittenCount();
        AnswerForms.WriteStream(WireApi.ChatCompletions, Answer, includeUsage: true, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public bool GuardShortPair() => SemanticGuard.Compatible("Did Facebook ever acquire the company Instagram?", "Did Instagram ever acquire the company Facebook?");

    [Benchmark]
    public bool GuardLongPair() => SemanticGuard.Compatible(Page + "Summarize it.", Page + "Please summarize it.");

    [Benchmark]
    public float[] EmbedPrompt() => _embedder.Embed("How do I rotate my API key without downtime for the services that use it?");
}

/// <summary>
/// A semantic lookup: the scan of one namespace-and-context bucket for the closest stored prompts (a dot product of 384
/// floats per entry), with 10 000 and 100 000 entries in the bucket (the embedding of the prompt is EmbedPrompt above).
/// </summary>
public class SemanticIndexBenchmarks
{
    private static readonly byte[] Context = new byte[32];

    private SemanticIndex _index = null!;
    private float[] _query = [];

    [Params(10_000, 100_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var settings = new GatewaySettings { CacheMaxMb = 4096 };
        _index = new SemanticIndex(TimeProvider.System, settings, new SecretProtector(new byte[32]), new ServiceCollection().BuildServiceProvider(), NullLogger<SemanticIndex>.Instance);
        var random = new Random(7);
        for (var i = 0; i < Entries; i++)
        {
            var key = new byte[32];
            random.NextBytes(key);
            _index.AddAsync("key:k1", Context, Unit(random), key, "prompt " + i, TimeSpan.FromHours(1)).AsTask().Wait();
        }

        _query = Unit(random);
    }

    [GlobalCleanup]
    public void Cleanup() => _index.Dispose();

    [Benchmark]
    public int Lookup() => _index.FindAsync("key:k1", Context, _query, 0.95).Result.Count;

    private static float[] Unit(Random random)
    {
        var v = new float[TextEmbedder.Dimensions];
        var norm = 0f;
        for (var d = 0; d < v.Length; d++)
        {
            v[d] = (float)((random.NextDouble() * 2) - 1);
            norm += v[d] * v[d];
        }

        norm = MathF.Sqrt(norm);
        for (var d = 0; d < v.Length; d++)
        {
            v[d] /= norm;
        }

        return v;
    }
}

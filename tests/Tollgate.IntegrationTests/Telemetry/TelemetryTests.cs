using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// A gateway process configured only by the standard OTEL_* variables exports GenAI spans and metrics as OTLP/HTTP
/// protobuf to a real receiver, and serves the same instruments on GET /metrics.
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private const string Master = "tg-telemetry-master";
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string ParentSpanId = "00f067aa0ba902b7";
    private readonly string _dataDir = Directory.CreateTempSubdirectory("tollgate-otel").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> _received = new();
    private WebApplication? _collector;
    private string _collectorUrl = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _collector = builder.Build();
        _collector.MapPost("/v1/{signal}", async (HttpContext context, string signal) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            _received.Enqueue((signal, context.Request.ContentType, body.ToArray()));
            return Results.Ok();
        });
        await _collector.StartAsync();
        _collectorUrl = _collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    [Fact]
    public async Task A_proxied_call_becomes_one_GenAI_span_and_metrics_over_OTLP_and_on_the_metrics_endpoint()
    {
        var mockPort = ProcessRunner.FreePort();
        using var mock = ProcessRunner.Start("tools/MockProvider", "Tollgate.MockProvider.dll", ["--urls", $"http://127.0.0.1:{mockPort}"]);
        var url = $"http://127.0.0.1:{ProcessRunner.FreePort()}";
        using var gateway = ProcessRunner.Start("src/Tollgate.Gateway", "Tollgate.Gateway.dll", ["--urls", url, "--data-dir", _dataDir], new Dictionary<string, string>
        {
            ["TOLLGATE_MASTER_KEY"] = Master,
            ["TOLLGATE_OTEL_ENDUSER"] = "true",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collectorUrl,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment.name=test",
        });
        await ProcessRunner.WaitForHttp(_http, $"http://127.0.0.1:{mockPort}/_mock/stats", mock);
        await ProcessRunner.WaitForHttp(_http, url + "/healthz", gateway);
        await Admin(HttpMethod.Post, url + "/admin/providers", new { name = "mock", kind = "openai_compatible", base_url = $"http://127.0.0.1:{mockPort}/v1" });
        await Admin(HttpMethod.Put, url + "/admin/prices/mock/echo", new { input_per_mtok = 1, output_per_mtok = 2 });
        await Admin(HttpMethod.Post, url + "/admin/providers", new { name = "down", kind = "openai_compatible", base_url = "http://127.0.0.1:9/v1" });
        await Admin(HttpMethod.Put, url + "/admin/prices/down/gone", new { input_per_mtok = 5, output_per_mtok = 15 });
        var key = (await Admin(HttpMethod.Post, url + "/admin/keys", new { name = "otel", owner = new { user = "alice", team = "platform", project = "search", cost_center = "cc-42" } }))
            .GetProperty("key").GetString()!;

        using var call = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new StringContent(GatewayHost.Chat("mock/echo"), Encoding.UTF8, "application/json") };
        call.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        call.Headers.Add("traceparent", $"00-{TraceId}-{ParentSpanId}-01");
        using var answer = await _http.SendAsync(call);
        var responseId = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using var refused = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new StringContent(GatewayHost.Chat("mock/echo"), Encoding.UTF8, "application/json") };
        refused.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "tg-not-a-key");
        using var rejection = await _http.SendAsync(refused);
        Assert.Equal(200, (int)answer.StatusCode);
        Assert.Equal(401, (int)rejection.StatusCode);
        // A streamed call, and one that never reaches its provider (connection refused): it consumed nothing.
        foreach (var (model, stream, status) in new[] { ("mock/small", true, 200), ("down/gone", false, 502) })
        {
            using var other = new HttpRequestMessage(HttpMethod.Post, url + "/v1/chat/completions") { Content = new StringContent(GatewayHost.Chat(model, stream), Encoding.UTF8, "application/json") };
            other.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var otherAnswer = await _http.SendAsync(other);
            await otherAnswer.Content.ReadAsStringAsync();
            Assert.Equal(status, (int)otherAnswer.StatusCode);
        }

        // The span: names, kind, parent from the caller's traceparent, GenAI and Tollgate attributes.
        var spans = await Eventually(() => _received.Where(r => r.Path == "traces").SelectMany(r => Otlp.Spans(r.Body)).ToList() is { Count: 3 } all ? all : null);
        var span = spans.Single(s => s.Name == "chat echo");
        var streamed = spans.Single(s => s.Name == "chat small");
        Assert.Equal(true, streamed.Attributes["gen_ai.request.stream"]); // conditionally required when streaming
        Assert.False(span.Attributes.ContainsKey("gen_ai.request.stream"));
        Assert.Equal("upstream_connect", spans.Single(s => s.Name == "chat gone").Attributes["error.type"]);
        Assert.All(_received, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.Equal("chat echo", span.Name);
        Assert.Equal(3, span.Kind); // SPAN_KIND_CLIENT
        Assert.Equal(TraceId, span.TraceId);
        Assert.Equal(ParentSpanId, span.ParentSpanId);
        Assert.True(span.EndNanos > span.StartNanos);
        var a = span.Attributes;
        Assert.Equal("chat", a["gen_ai.operation.name"]);
        Assert.Equal("mock", a["gen_ai.provider.name"]);
        Assert.Equal("echo", a["gen_ai.request.model"]);
        Assert.Equal("echo", a["gen_ai.response.model"]);
        Assert.Equal(responseId, a["gen_ai.response.id"]);
        Assert.Equal(12L, a["gen_ai.usage.input_tokens"]);
        Assert.Equal(8L, a["gen_ai.usage.output_tokens"]);
        Assert.Equal(["stop"], (string[])a["gen_ai.response.finish_reasons"]);
        Assert.Equal("127.0.0.1", a["server.address"]);
        Assert.Equal((long)mockPort, a["server.port"]);
        Assert.Equal("platform", a["tollgate.team"]);
        Assert.Equal("search", a["tollgate.project"]);
        Assert.Equal("cc-42", a["tollgate.cost_center"]);
        Assert.Equal(0.000028, (double)a["tollgate.cost"], 12);
        Assert.Equal(false, a["tollgate.cache_hit"]);
        Assert.Equal("alice", a["enduser.id"]);
        Assert.False(a.ContainsKey("error.type"));
        var resource = Otlp.ResourceAttributes(_received.First(r => r.Path == "traces").Body);
        Assert.Equal("tollgate", resource["service.name"]);
        Assert.Equal("test", resource["deployment.environment.name"]);

        // The metrics, cumulative: the latest export holds both calls.
        var metrics = await Eventually(() =>
        {
            var latest = _received.Where(r => r.Path == "metrics").Select(r => Otlp.Metrics(r.Body).ToList()).LastOrDefault();
            return latest is not null && latest.Any(m => m.Name == "tollgate.rejections") && latest.Any(m => m.Name == "tollgate.cost")
                && latest.Single(m => m.Name == "gen_ai.client.operation.duration").Points.Count == 3 ? latest : null;
        });
        static bool Of(Otlp.Point p, string model) => (string)p.Attributes["gen_ai.request.model"] == model;
        var tokens = metrics.Single(m => m.Name == "gen_ai.client.token.usage");
        Assert.Equal(("histogram", "{token}"), (tokens.Type, tokens.Unit));
        Assert.Equal(12, tokens.Points.Single(p => Of(p, "echo") && (string)p.Attributes["gen_ai.token.type"] == "input").Value);
        Assert.Equal(8, tokens.Points.Single(p => Of(p, "echo") && (string)p.Attributes["gen_ai.token.type"] == "output").Value);
        Assert.All(tokens.Points, p => Assert.Equal("platform", p.Attributes["tollgate.team"]));
        Assert.DoesNotContain(tokens.Points, p => Of(p, "gone")); // the refused connection consumed nothing
        var duration = metrics.Single(m => m.Name == "gen_ai.client.operation.duration");
        var echoDuration = duration.Points.Single(p => Of(p, "echo"));
        Assert.Equal(("histogram", "s", 1UL), (duration.Type, duration.Unit, echoDuration.Count));
        Assert.Equal("chat", echoDuration.Attributes["gen_ai.operation.name"]);
        Assert.InRange(echoDuration.Value, 0.000001, 10);
        Assert.Equal("upstream_connect", duration.Points.Single(p => Of(p, "gone")).Attributes["error.type"]);
        var cost = metrics.Single(m => m.Name == "tollgate.cost").Points.Single();
        Assert.Equal(0.000028, cost.Value, 12);
        Assert.Equal("USD", cost.Attributes["tollgate.currency"]);
        Assert.Equal("cc-42", cost.Attributes["tollgate.cost_center"]);
        var rejected = metrics.Single(m => m.Name == "tollgate.rejections").Points.Single();
        Assert.Equal(("invalid_api_key", 1d), ((string)rejected.Attributes["error.type"], rejected.Value));

        // Prometheus: the same instruments, scraped.
        var text = await _http.GetStringAsync(url + "/metrics");
        Assert.Contains("gen_ai_client_token_usage_sum{", text, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_operation_duration_seconds_count{", text, StringComparison.Ordinal);
        Assert.Matches("""tollgate_cost_total\{[^}]*tollgate_team="platform"[^}]*\} 2\.8E-05""", text);
        Assert.Matches("""tollgate_rejections_total\{[^}]*error_type="invalid_api_key"[^}]*\} 1""", text);
    }

    private static async Task<T> Eventually<T>(Func<T?> probe)
        where T : class
    {
        for (var i = 0; i < 200; i++)
        {
            if (probe() is { } value)
            {
                return value;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the collector received nothing matching in 20 s");
    }

    private async Task<JsonElement> Admin(HttpMethod method, string url, object body)
    {
        using var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Master);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task DisposeAsync()
    {
        await _collector!.StopAsync();
        await _collector.DisposeAsync();
        _http.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }
}

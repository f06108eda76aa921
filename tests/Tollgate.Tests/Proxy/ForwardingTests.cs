using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Proxy;
using Tollgate.Gateway.Storage;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// How long an exchange with a provider may last and how much of it the gateway holds: an idle timeout between reads
/// (not one deadline for the whole stream), an optional overall cap, and a bound on one SSE event.
/// </summary>
public sealed class ForwardingTests
{
    [Fact]
    public async Task A_stream_longer_than_the_idle_timeout_runs_to_its_end_while_chunks_keep_coming()
    {
        await using var host = await Start(s => s.UpstreamIdleTimeoutSeconds = 2);
        var (id, key) = await host.CreateKey();

        // 12 words 250 ms apart: about 3.5 s in all, never more than 250 ms of silence.
        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(stream: true), ("x-mock-chunk-delay-ms", "250"), ("x-mock-completion-tokens", "12"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        var record = Assert.Single(await host.Records(id));
        Assert.Null(record.Text("error_class"));
        Assert.Equal(12, record.Long("output_tokens"));
        Assert.True(record.Long("latency_ms") > 2000);
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/messages")]
    public async Task A_provider_silent_past_the_idle_timeout_ends_the_stream_with_an_error_event_and_is_recorded(string path)
    {
        await using var host = await Start(s => s.UpstreamIdleTimeoutSeconds = 1);
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy(path, key, GatewayHost.Chat(stream: true, extra: ",\"max_tokens\":8"), ("x-mock-chunk-delay-ms", "3000"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode); // the stream had started
        var error = ErrorEvent(text, path);
        Assert.Contains("upstream_timeout", error, StringComparison.Ordinal);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal("upstream_timeout", record.Text("error_class"));
        Assert.True(record.Estimated); // sent, so billable: the input estimate and the output relayed so far
        Assert.True(record.Long("input_tokens") > 0);
    }

    [Fact]
    public async Task The_overall_cap_cuts_a_stream_only_when_it_is_set()
    {
        await using var host = await Start(s =>
        {
            s.UpstreamIdleTimeoutSeconds = 30;
            s.UpstreamTimeoutSeconds = 1;
        });
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(stream: true), ("x-mock-chunk-delay-ms", "250"), ("x-mock-completion-tokens", "12"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("upstream_timeout", ErrorEvent(text, "/v1/chat/completions"), StringComparison.Ordinal);
        Assert.Equal("upstream_timeout", Assert.Single(await host.Records(id)).Text("error_class"));
    }

    [Fact]
    public async Task One_endless_sse_event_fails_the_call_at_the_event_limit_without_reading_the_rest()
    {
        const int Limit = 64 * 1024;
        await using var provider = new EndlessEventServer();
        await using var host = await Start(s => s.MaxSseEventBytes = Limit);
        (await host.Admin(HttpMethod.Post, "/admin/providers", new { name = "endless", kind = "openai_compatible", base_url = provider.BaseUrl + "/v1" })).EnsureSuccessStatusCode();
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("endless/model", stream: true));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("upstream_error", ErrorEvent(text, "/v1/chat/completions"), StringComparison.Ordinal);
        Assert.True(text.Length < 2 * Limit, "the oversized event never reaches the client");
        var record = Assert.Single(await host.Records(id));
        Assert.Equal("upstream_event_too_large", record.Text("error_class"));
        // The gateway dropped the connection: the provider could hand the kernel little more than the limit plus the
        // sockets' buffers, not the gigabyte it meant to send.
        var written = await provider.StoppedAsync();
        Assert.True(written is >= Limit and <= 32L * 1024 * 1024, $"the provider wrote {written} bytes of the event");
    }

    [Fact]
    public async Task Response_owners_answer_from_memory_and_query_the_database_asynchronously()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-owners");
        try
        {
            var db = new CountingDatabase(new SqliteDatabase(Path.Combine(dir.FullName, "t.db")));
            db.Inner.Migrate();
            var owners = new ResponseOwners(db);
            owners.Remember("resp_1", new ResponseOwner("mock", "key_1", "mock/echo"));

            Assert.Equal("key_1", (await owners.FindAsync("resp_1", CancellationToken.None))!.KeyId);
            Assert.Equal(0, db.AsyncOpens);
            Assert.Null(await owners.FindAsync("resp_unknown", CancellationToken.None));
            Assert.Equal(1, db.AsyncOpens); // and never the blocking Open(), which throws here
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    private static async Task<GatewayHost> Start(Action<Gateway.Hosting.GatewaySettings> configure)
    {
        var host = new GatewayHost(configure);
        await host.InitializeAsync();
        return host;
    }

    /// <summary>The error event that ends a stream: OpenAI's <c>data: {"error":…}</c>, or Anthropic's <c>event: error</c>.</summary>
    private static string ErrorEvent(string stream, string path)
    {
        var events = stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var last = events[^1];
        if (path == "/v1/messages")
        {
            Assert.StartsWith("event: error\ndata: ", last, StringComparison.Ordinal);
            var body = JsonDocument.Parse(last["event: error\ndata: ".Length..]).RootElement;
            Assert.Equal("error", body.GetProperty("type").GetString());
            return body.GetProperty("error").GetProperty("message").GetString()!;
        }

        Assert.StartsWith("data: {\"error\":", last, StringComparison.Ordinal);
        var error = JsonDocument.Parse(last["data: ".Length..]).RootElement.GetProperty("error");
        return error.GetProperty("code").GetString()!;
    }

    /// <summary>
    /// A provider that answers any request with an SSE stream whose first event never ends (up to 1 GiB), over a raw
    /// socket so that every byte counted was accepted by the connection: a write fails once the gateway has closed it.
    /// </summary>
    private sealed class EndlessEventServer : IAsyncDisposable
    {
        private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        private readonly TaskCompletionSource<long> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _serving;

        public EndlessEventServer()
        {
            _listener.Start();
            _serving = Task.Run(ServeAsync);
        }

        public string BaseUrl => "http://127.0.0.1:" + ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;

        /// <summary>The bytes of the event written before the connection was closed.</summary>
        public Task<long> StoppedAsync() => _stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _serving.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        private async Task ServeAsync()
        {
            long written = 0;
            try
            {
                using var socket = await _listener.AcceptSocketAsync();
                var request = new byte[64 * 1024];
                var received = 0;
                while (!Encoding.ASCII.GetString(request, 0, received).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    received += await socket.ReceiveAsync(request.AsMemory(received));
                }

                await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {\"x\":\""));
                var chunk = new byte[64 * 1024];
                Array.Fill(chunk, (byte)'a');
                while (written < 1L << 30)
                {
                    written += await socket.SendAsync(chunk);
                }
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The gateway closed the connection.
            }
            catch (ObjectDisposedException)
            {
            }

            _stopped.TrySetResult(written);
        }
    }

    /// <summary>A database that counts asynchronous opens and refuses blocking ones.</summary>
    private sealed class CountingDatabase(SqliteDatabase inner) : Database
    {
        public SqliteDatabase Inner => inner;

        public int AsyncOpens { get; private set; }

        public override System.Data.Common.DbConnection Open() => throw new InvalidOperationException("a blocking open on the request path");

        public override ValueTask<System.Data.Common.DbConnection> OpenAsync(CancellationToken cancel)
        {
            AsyncOpens++;
            return inner.OpenAsync(cancel);
        }

        public override void Migrate() => inner.Migrate();

        public override string DayOf(string column) => inner.DayOf(column);

        public override string MonthOf(string column) => inner.MonthOf(column);

        public override ILedgerSink OpenLedgerSink() => inner.OpenLedgerSink();
    }
}

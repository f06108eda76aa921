using System.Text;
using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

[Collection(GatewayCollection.Name)]
public sealed class StreamingTests(GatewayHost host)
{
    [Fact]
    public async Task Stream_without_include_usage_reaches_the_client_exactly_as_asked_yet_is_metered_from_the_provider()
    {
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(stream: true));
        var events = await ReadEvents(response);

        // The provider was asked for usage...
        using (var forwarded = JsonDocument.Parse(host.Mock.Log.Last!.Body))
        {
            Assert.True(forwarded.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
            Assert.Equal("echo", forwarded.RootElement.GetProperty("model").GetString());
        }

        // ...but the client sees no usage chunk and no "usage" member at all.
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Equal(10, chunks.Count); // role chunk, 8 words, finish chunk
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.All(chunks, c => Assert.Equal(1, c.GetProperty("choices").GetArrayLength()));
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(12, record.Long("input_tokens"));
        Assert.Equal(8, record.Long("output_tokens"));
        Assert.False(record.Estimated);
    }

    [Fact]
    public async Task Stream_with_include_usage_keeps_the_usage_chunk_for_the_client()
    {
        var (_, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(stream: true, extra: ",\"stream_options\":{\"include_usage\":true}"), ("x-mock-completion-tokens", "3"));
        var events = await ReadEvents(response);

        var usageChunk = JsonDocument.Parse(events[^2]).RootElement;
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(events[0]).RootElement.GetProperty("usage").ValueKind);
    }

    [Fact]
    public async Task Stream_events_are_flushed_one_by_one_as_the_provider_sends_them()
    {
        var (_, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(stream: true), ("x-mock-chunk-delay-ms", "400"), ("x-mock-completion-tokens", "20"));
        using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        var first = await stream.ReadAsync(buffer);

        // The first read returns long before the 20 × 400 ms stream could have been buffered whole.
        Assert.Contains("chat.completion.chunk", Encoding.UTF8.GetString(buffer, 0, first), StringComparison.Ordinal);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_stream_cancelled_by_the_client_midway_still_yields_exactly_one_estimated_record()
    {
        var (id, key) = await host.CreateKey();

        using (var cts = new CancellationTokenSource())
        {
            using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(stream: true), ("x-mock-chunk-delay-ms", "100"), ("x-mock-completion-tokens", "200"));
            using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
            var seen = 0;
            var buffer = new byte[1024];
            while (seen < 3)
            {
                var read = await stream.ReadAsync(buffer, cts.Token);
                seen += Encoding.UTF8.GetString(buffer, 0, read).Split("data:").Length - 1;
            }

            await cts.CancelAsync();
        }

        var records = await host.WaitForRecords(id, 1);
        await Task.Delay(300);
        records = await host.Records(id);
        var record = Assert.Single(records);
        Assert.Equal(499, record.Long("status"));
        Assert.Equal("client_cancelled", record.Text("error_class"));
        Assert.True(record.Estimated);
        Assert.True(record.Long("input_tokens") > 0, "input is estimated with the tokenizer");
        Assert.InRange(record.Long("output_tokens"), 1, 199);
        Assert.True(record.Cost > 0);
    }

    [Fact]
    public async Task A_provider_that_breaks_off_a_stream_yields_one_record_with_estimated_output()
    {
        var (id, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat(stream: true), ("x-mock-abort-after-chunks", "4"), ("x-mock-chunk-delay-ms", "50"));
        var events = await ReadEvents(response);

        // The stream ends with an error event in the API's own format, after the chunks that came before the break
        // (how many did depends on the connection reset: data still unread when it arrives is lost).
        Assert.StartsWith("{\"error\":", events[^1], StringComparison.Ordinal);
        Assert.Contains("upstream_error", events[^1], StringComparison.Ordinal);
        var relayed = string.Concat(events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var c) ? c.GetString() : ""));
        Assert.StartsWith("Tollgate", relayed, StringComparison.Ordinal);
        var record = Assert.Single(await host.WaitForRecords(id, 1));
        Assert.Equal("upstream_broken", record.Text("error_class"));
        Assert.True(record.Estimated);
        Assert.Equal(Gateway.Metering.TokenEstimator.CountText(System.Text.Encoding.UTF8.GetBytes(relayed)), record.Long("output_tokens"));
    }

    [Fact]
    public async Task Anthropic_stream_is_metered_from_message_start_and_message_delta()
    {
        var (id, key) = await host.CreateKey();
        const string body = """{"model":"mock/echo","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}""";

        using var response = await host.Proxy("/v1/messages", key, body, ("x-mock-prompt-tokens", "100"), ("x-mock-cached-tokens", "60"), ("x-mock-cache-write-tokens", "20"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("event: message_stop", text, StringComparison.Ordinal);
        var record = Assert.Single(await host.Records(id));
        Assert.Equal(100, record.Long("input_tokens"));
        Assert.Equal(60, record.Long("cached_tokens"));
        Assert.Equal(20, record.Long("cache_write_tokens"));
        Assert.Equal(5, record.Long("output_tokens"));
        // 20 uncached × 1.00 + 60 × 0.10 + 20 × 1.25 + 5 × 2.00 = 61 per million
        Assert.Equal(0.000061m, record.Cost);
    }

    private static async Task<List<string>> ReadEvents(HttpResponseMessage response)
    {
        Assert.Equal(200, (int)response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).Where(e => e.StartsWith("data: ", StringComparison.Ordinal)).Select(e => e[6..])];
    }
}

using System.IO.Pipelines;
using System.Text;
using Tollgate.Gateway.Metering;
using Tollgate.Gateway.Protocols.Anthropic;
using Tollgate.Gateway.Protocols.OpenAi;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Tests.Unit;

public sealed class SseTests
{
    [Theory]
    [InlineData("data: {\"a\":1,\"usage\":null}\n\n", "data: {\"a\":1}\n\n")]
    [InlineData("data: {\"usage\":null,\"a\":1}\n\n", "data: {\"a\":1}\n\n")]
    [InlineData("data: {\"a\":1, \"usage\" : null}\n\n", "data: {\"a\":1}\n\n")]
    public void Null_usage_members_are_cut_out_cleanly(string evt, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(evt);

        Assert.True(SseRelay.NullUsage(bytes, out var from, out var to));

        Assert.Equal(expected, Encoding.UTF8.GetString(bytes.AsSpan(0, from)) + Encoding.UTF8.GetString(bytes.AsSpan(to)));
    }

    [Fact]
    public async Task Relay_handles_events_split_across_reads_and_crlf_separators_and_strips_the_injected_usage()
    {
        const string stream =
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}],\"usage\":null}\r\n\r\n" +
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],\"usage\":null}\n\n" +
            ": keep-alive comment\n\n" +
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":3}}}\n\n" +
            "data: [DONE]\n\n";
        var upstream = new TrickleStream(Encoding.UTF8.GetBytes(stream), chunk: 5);
        var output = new MemoryStream();
        var writer = PipeWriter.Create(output);
        using var meter = new OpenAiMeter(usageWasInjected: true);
        var firstByte = 0;

        using var deadline = new UpstreamDeadline(TimeSpan.FromSeconds(30), null, CancellationToken.None);
        using var relay = new SseRelay(upstream, writer, meter, deadline, 1024 * 1024);

        // The first step stops at the usage chunk, with nothing after it relayed yet: the pipeline settles there.
        await relay.RelayUntilUsageAsync(() => firstByte++);
        Assert.True(meter.Complete);
        Assert.DoesNotContain("[DONE]", Encoding.UTF8.GetString(output.ToArray()), StringComparison.Ordinal);
        await relay.FinishAsync();
        await writer.CompleteAsync();

        Assert.Equal(1, firstByte);
        Assert.Equal(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n" +
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n" +
            ": keep-alive comment\n\n" +
            "data: [DONE]\n\n",
            Encoding.UTF8.GetString(output.ToArray()));
        var (usage, estimated) = meter.Result(() => throw new InvalidOperationException("usage was reported"));
        Assert.False(estimated);
        Assert.Equal(new TokenUsage(7, 3, 0, 2, 0), usage);
    }

    [Fact]
    public void Anthropic_usage_adds_cache_reads_and_writes_to_input()
    {
        using var meter = new AnthropicMeter();
        meter.OnEvent("{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":100,\"cache_creation_input_tokens\":5,\"output_tokens\":1}}}"u8);
        Assert.False(meter.Complete);
        meter.OnEvent("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi there\"}}"u8);
        meter.OnEvent("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}"u8);

        var (usage, estimated) = meter.Result(() => 0);

        Assert.False(estimated);
        Assert.Equal(new TokenUsage(115, 100, 5, 42, 0), usage);
        Assert.Equal("claude-sonnet-4-5", meter.ServedModel);
        Assert.Equal("end_turn", meter.FinishReason);
    }

    [Theory]
    [InlineData("openai", "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"hi\"},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}", "length")]
    [InlineData("openai", "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"{\\\"finish_reason\\\":1}\",\"tool_calls\":[{\"function\":{\"finish_reason\":\"no\"}}]},\"finish_reason\":\"tool_calls\"}]}", "tool_calls")]
    [InlineData("anthropic", "{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}", "max_tokens")]
    [InlineData("responses", "{\"id\":\"resp_1\",\"status\":\"incomplete\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}", "incomplete")]
    public void Meters_keep_the_finish_reason_for_telemetry(string api, string body, string expected)
    {
        using UsageMeter meter = api switch
        {
            "openai" => new OpenAiMeter(false),
            "anthropic" => new AnthropicMeter(),
            _ => new ResponsesMeter(),
        };

        meter.ReadResponse(System.Text.Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, meter.FinishReason);
    }

    [Fact]
    public void An_anthropic_stream_cut_after_message_start_keeps_the_reported_input_and_estimates_output()
    {
        using var meter = new AnthropicMeter();
        meter.OnEvent("{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}"u8);
        meter.OnEvent("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello world, how are you\"}}"u8);

        var (usage, estimated) = meter.Result(() => 999);

        Assert.True(estimated);
        Assert.Equal(10, usage.Input);
        Assert.Equal(TokenEstimator.CountText("Hello world, how are you"u8), usage.Output);
    }

    [Fact]
    public void Openai_usage_reads_cached_and_reasoning_details()
    {
        using var meter = new OpenAiMeter(false);

        meter.ReadResponse("{\"id\":\"x\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":2006,\"completion_tokens\":300,\"total_tokens\":2306,\"prompt_tokens_details\":{\"cached_tokens\":1920},\"completion_tokens_details\":{\"reasoning_tokens\":256}}}"u8);

        Assert.Equal((new TokenUsage(2006, 1920, 0, 300, 256), false), meter.Result(() => 0));
        Assert.Equal("gpt-4o-2024-08-06", meter.ServedModel);
    }

    /// <summary>Hands out a byte array a few bytes per read, like a slow network.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, chunk), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = Math.Min(Math.Min(buffer.Length, chunk), data.Length - _position);
            data.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return ValueTask.FromResult(n);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Protocols;

namespace Tollgate.Tests.Unit;

public sealed class BodyRewriterTests
{
    [Theory]
    [InlineData("""{"model":"mock/echo","stream":true,"messages":[]}""", """{"stream_options":{"include_usage":true},"model":"echo","stream":true,"messages":[]}""")]
    [InlineData("""{"model":"mock/echo","stream":true,"stream_options":null,"messages":[]}""", """{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":[]}""")]
    [InlineData("""{"stream_options":{},"model":"mock/echo","stream":true}""", """{"stream_options":{"include_usage":true},"model":"echo","stream":true}""")]
    [InlineData("""{"stream_options":{"include_usage":false},"model":"mock/echo","stream":true}""", """{"stream_options":{"include_usage":true},"model":"echo","stream":true}""")]
    [InlineData("""{"model":"mock/echo","stream":true,"stream_options":{"include_obfuscation":false}}""", """{"model":"echo","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}""")]
    [InlineData("""{ "model" : "mock/a\/b", "stream": true }""", """{"stream_options":{"include_usage":true}, "model" : "a/b", "stream": true }""")]
    public void Streaming_chat_bodies_ask_for_usage_and_lose_the_provider_prefix(string body, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Null(ClientProtocol.ChatCompletions.Validate(bytes, out var request) is { } e && !e.Contains("messages", StringComparison.Ordinal) ? e : null);
        var upstream = request.Model[(request.Model.IndexOf('/', StringComparison.Ordinal) + 1)..];

        using var rewritten = BodyRewriter.Rewrite(bytes, request, upstream, ensureIncludeUsage: true);

        Assert.Equal(expected, Encoding.UTF8.GetString(rewritten.Span));
        using var _ = JsonDocument.Parse(rewritten.Memory);
    }

    [Fact]
    public void Everything_but_the_model_passes_through_byte_for_byte()
    {
        const string body = """{"model":"mock/échø","temperature":0.70,"tools":[{"type":"function"}],"messages":[{"role":"user","content":"ünïcode \u2603"}]}""";
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Null(ClientProtocol.ChatCompletions.Validate(bytes, out var request));

        using var rewritten = BodyRewriter.Rewrite(bytes, request, "échø", ensureIncludeUsage: false);

        Assert.Equal(body.Replace("mock/", "", StringComparison.Ordinal), Encoding.UTF8.GetString(rewritten.Span));
    }
}

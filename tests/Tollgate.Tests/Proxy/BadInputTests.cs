using System.Text;
using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>Client mistakes get the contract's status and code in the called API's error shape, and never reach the provider.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BadInputTests(GatewayHost host)
{
    public static TheoryData<string, string, int, string> Bodies => new()
    {
        { "/v1/chat/completions", "{\"model\":\"mock/echo\",\"messages\":[", 400, "invalid_request" },
        { "/v1/chat/completions", "not json at all", 400, "invalid_request" },
        { "/v1/chat/completions", "", 400, "invalid_request" },
        { "/v1/chat/completions", "[1,2,3]", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"mock/echo\",\"messages\":[]} trailing", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":5,\"messages\":[]}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"messages\":[]}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"mock/echo\",\"stream\":\"yes\",\"messages\":[]}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"mock/echo\",\"messages\":{}}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"mock/echo\"}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"mock/echo\",\"max_tokens\":-1,\"messages\":[]}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"mock/echo\",\"max_tokens\":1.5,\"messages\":[]}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"mock/echo\",\"stream_options\":5,\"messages\":[]}", 400, "invalid_request" },
        { "/v1/chat/completions", "{\"model\":\"nope/gpt\",\"messages\":[]}", 404, "model_not_found" },
        { "/v1/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":[]}", 404, "model_not_found" },
        { "/v1/chat/completions", "{\"model\":\"mock/\",\"messages\":[]}", 404, "model_not_found" },
        { "/v1/embeddings", "{\"model\":\"mock/embed\"}", 400, "invalid_request" },
        { "/v1/embeddings", "{\"model\":\"mock/embed\",\"input\":7}", 400, "invalid_request" },
        { "/v1/messages", "{\"model\":\"mock/echo\",\"messages\":\"hi\"}", 400, "invalid_request" },
        { "/v1/messages", "{{{", 400, "invalid_request" },
        { "/v1/messages", "{\"model\":\"nope/claude\",\"max_tokens\":5,\"messages\":[]}", 404, "model_not_found" },
        { "/v1/responses", "{\"model\":\"mock/echo\",\"input\":", 400, "invalid_request" },
        { "/v1/responses", "{\"input\":\"hi\"}", 400, "invalid_request" },
        { "/v1/responses", "{\"model\":\"mock/echo\",\"input\":5}", 400, "invalid_request" },
        { "/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"hi\",\"max_output_tokens\":\"ten\"}", 400, "invalid_request" },
        { "/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"hi\",\"background\":\"yes\"}", 400, "invalid_request" },
        { "/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"hi\",\"previous_response_id\":7}", 400, "invalid_request" },
        { "/v1/responses", "{\"model\":\"nope/gpt-5\",\"input\":\"hi\"}", 404, "model_not_found" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Bad_bodies_get_the_contract_status_and_code(string path, string body, int status, string code)
    {
        var (_, key) = await host.CreateKey();
        var before = host.Mock.Log.Count;

        using var response = await host.Proxy(path, key, body);

        await ApiErrors.AssertError(response, path, status, code);
        Assert.Equal(before, host.Mock.Log.Count);
    }

    [Fact]
    public async Task Invalid_utf8_is_refused()
    {
        var (_, key) = await host.CreateKey();
        var body = Encoding.UTF8.GetBytes("{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"X\"}]}");
        body[Array.IndexOf(body, (byte)'X')] = 0xFF;

        using var response = await host.Proxy("/v1/chat/completions", key, body);

        await ApiErrors.AssertError(response, "/v1/chat/completions", 400, "invalid_request");
    }

    [Theory]
    [InlineData("/v1/chat/completions", true)]
    [InlineData("/v1/messages", true)]
    [InlineData("/v1/chat/completions", false)]
    public async Task Bodies_over_the_limit_get_413(string path, bool withLength)
    {
        var (_, key) = await host.CreateKey();
        var big = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('a', 300 * 1024) + "\"}]}";
        using var request = new HttpRequestMessage(HttpMethod.Post, host.BaseUrl + path)
        {
            Content = withLength ? new StringContent(big, Encoding.UTF8, "application/json") : new ChunkedContent(Encoding.UTF8.GetBytes(big)),
        };
        request.Headers.Authorization = new("Bearer", key);

        using var response = await host.Http.SendAsync(request);

        await ApiErrors.AssertError(response, path, 413, "request_too_large");
    }

    [Theory]
    [InlineData("/v1/chat/completions", null)]
    [InlineData("/v1/chat/completions", "tg-unknown-key")]
    [InlineData("/v1/chat/completions", "sk-not-even-ours")]
    [InlineData("/v1/messages", "tg-unknown-key")]
    [InlineData("/v1/embeddings", "tg-unknown-key")]
    [InlineData("/v1/responses", "tg-unknown-key")]
    public async Task Unknown_or_missing_keys_get_401(string path, string? key)
    {
        using var response = await host.Proxy(path, key, GatewayHost.Chat());

        await ApiErrors.AssertError(response, path, 401, "invalid_api_key");
    }

    [Fact]
    public async Task An_expired_key_gets_401()
    {
        var (_, key) = await host.CreateKey(new { name = "expired", expires_at = DateTimeOffset.UtcNow.AddSeconds(-1) });

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat());

        await ApiErrors.AssertError(response, "/v1/chat/completions", 401, "invalid_api_key");
    }

    [Fact]
    public async Task Anthropic_errors_keep_anthropics_shape_and_carry_the_code_in_a_header()
    {
        using var response = await host.Proxy("/v1/messages", "tg-nope", "{}");

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("authentication_error", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("invalid_api_key", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

using System.Text.Json;

namespace Tollgate.Tests.Infrastructure;

/// <summary>Assertions on the errors the gateway answers, in the called API's shape.</summary>
public static class ApiErrors
{
    /// <summary>Checks status, shape and code: OpenAI paths carry <c>error.code</c>, the Anthropic path an Anthropic error type.</summary>
    public static async Task AssertError(HttpResponseMessage response, string path, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(code, response.Headers.GetValues("X-Tollgate-Error-Code").Single());
        var body = JsonDocument.Parse(text).RootElement;
        if (path == "/v1/messages")
        {
            Assert.Equal("error", body.GetProperty("type").GetString());
            Assert.Equal(
                status switch { 401 => "authentication_error", 403 => "permission_error", 404 => "not_found_error", 413 => "request_too_large", 429 => "rate_limit_error", _ => "invalid_request_error" },
                body.GetProperty("error").GetProperty("type").GetString());
        }
        else
        {
            Assert.Equal(code, body.GetProperty("error").GetProperty("code").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetProperty("message").GetString()));
        }
    }
}

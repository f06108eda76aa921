using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// Tollgate's own JSON reads as written: timestamps keep a literal <c>+00:00</c> and messages a literal <c>'</c>, in the raw
/// text of admin bodies and of error bodies on both wire protocols (System.Text.Json's default would write \u002B, \u0027).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class JsonOutputTests(GatewayHost host)
{
    [Fact]
    public async Task Admin_bodies_write_timestamps_and_quotes_unescaped()
    {
        var (id, _) = await host.CreateKey(new { name = "o'brien+ops" });

        using var response = await host.Admin(HttpMethod.Get, "/admin/keys/" + id);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Contains("+00:00\"", text, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"o'brien+ops\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u00", text, StringComparison.Ordinal);
        Assert.Equal("o'brien+ops", JsonDocument.Parse(text).RootElement.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/messages")]
    public async Task Error_bodies_write_quotes_unescaped(string path)
    {
        using var response = await host.Proxy(path, null, GatewayHost.Chat());
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(401, (int)response.StatusCode);
        Assert.Contains("use 'Authorization: Bearer <key>'", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u00", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_named_in_an_error_is_quoted_with_a_literal_apostrophe()
    {
        var (_, key) = await host.CreateKey();

        using var response = await host.Proxy("/v1/chat/completions", key, GatewayHost.Chat("nobody/none"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains("'nobody/none'", text, StringComparison.Ordinal);
    }
}

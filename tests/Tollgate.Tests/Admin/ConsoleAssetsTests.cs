using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The console's files come from the gateway itself, cacheable by ETag, under a strict content policy.</summary>
public sealed class ConsoleAssetsTests : IAsyncLifetime
{
    private readonly GatewayHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task The_console_page_its_scripts_and_its_vendored_libraries_are_served_under_ui()
    {
        using var page = await _host.Http.GetAsync(_host.BaseUrl + "/ui/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal); // nothing from elsewhere
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        Assert.Contains("href=\"style.css\"", html, StringComparison.Ordinal);
        Assert.Contains("src=\"vendor/chart.umd.min.js\"", html, StringComparison.Ordinal);
        Assert.Contains("src=\"app.js\"", html, StringComparison.Ordinal);

        // The page's files and the modules app.js imports, the vendored libraries among them, are all there.
        foreach (var path in new[] { "style.css", "app.js", "lib.js", "pages/overview.js", "vendor/preact.mjs", "vendor/hooks.mjs", "vendor/htm.mjs", "vendor/chart.umd.min.js" })
        {
            using var asset = await _host.Http.GetAsync(_host.BaseUrl + "/ui/" + path);
            Assert.True(asset.StatusCode == HttpStatusCode.OK, path);
            Assert.Equal(path.EndsWith(".css", StringComparison.Ordinal) ? "text/css" : "text/javascript", asset.Content.Headers.ContentType!.MediaType);
        }

        using var missing = await _host.Http.GetAsync(_host.BaseUrl + "/ui/nothing-here.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Ui_without_a_slash_redirects_and_assets_answer_304_to_their_etag_and_gzip_when_asked()
    {
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var bare = await noRedirect.GetAsync(_host.BaseUrl + "/ui");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/ui/", bare.Headers.Location!.OriginalString);

        using var first = await _host.Http.GetAsync(_host.BaseUrl + "/ui/app.js");
        var etag = first.Headers.ETag!;
        Assert.Equal("no-cache", first.Headers.CacheControl!.ToString());
        var plain = await first.Content.ReadAsStringAsync();

        using var again = new HttpRequestMessage(HttpMethod.Get, _host.BaseUrl + "/ui/app.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await _host.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var zipped = new HttpRequestMessage(HttpMethod.Get, _host.BaseUrl + "/ui/app.js");
        zipped.Headers.AcceptEncoding.ParseAdd("gzip");
        using var gzipped = await _host.Http.SendAsync(zipped);
        Assert.Equal("gzip", gzipped.Content.Headers.ContentEncoding.Single());
        await using var unzip = new GZipStream(await gzipped.Content.ReadAsStreamAsync(), CompressionMode.Decompress);
        using var reader = new StreamReader(unzip, Encoding.UTF8);
        Assert.Equal(plain, await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Alerts_and_audit_are_paged_newest_first_by_limit_and_offset()
    {
        for (var i = 0; i < 5; i++)
        {
            await _host.CreateKey(new { name = $"k{i}" });
        }

        var all = (await _host.AdminJson(HttpMethod.Get, "/admin/audit")).EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToList();
        Assert.True(all.Count >= 5);
        var paged = new List<string?>();
        for (var offset = 0; ; offset += 2)
        {
            var page = (await _host.AdminJson(HttpMethod.Get, $"/admin/audit?limit=2&offset={offset}")).EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToList();
            Assert.True(page.Count <= 2);
            if (page.Count == 0)
            {
                break;
            }

            paged.AddRange(page);
        }

        Assert.Equal(all, paged);
        Assert.Equal(JsonValueKind.Array, (await _host.AdminJson(HttpMethod.Get, "/admin/alerts?limit=10&offset=0")).ValueKind);

        foreach (var bad in new[] { "/admin/audit?limit=0", "/admin/audit?limit=1001", "/admin/alerts?offset=-1", "/admin/alerts?limit=x" })
        {
            using var response = await _host.Admin(HttpMethod.Get, bad);
            await ApiErrors.AssertError(response, bad, 400, "invalid_request");
        }
    }
}

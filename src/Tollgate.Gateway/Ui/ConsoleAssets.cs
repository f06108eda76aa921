using System.Collections.Frozen;
using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Tollgate.Gateway.Ui;

/// <summary>
/// Serves the console at <c>/ui/</c> from files embedded in the gateway assembly (Ui/web, see the csproj): nothing to
/// deploy beside the binary, nothing fetched from elsewhere, so it works offline. Each file is read and gzipped once
/// at start; answers carry a strong ETag and <c>no-cache</c>, so a browser revalidates (304) instead of running an old
/// console against a new gateway.
/// </summary>
internal static class ConsoleAssets
{
    private const string Prefix = "ui/";

    /// <summary>
    /// Scripts, styles, images and connections only from the gateway itself; no frames, no plugins, no inline script.
    /// Inline styles stay allowed: the chart library sizes its canvas through the style attribute.
    /// </summary>
    private const string ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".txt"] = "text/plain; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    public static void MapConsole(this IEndpointRouteBuilder app)
    {
        // Routing ignores a trailing slash, so "/ui" lands here too: it is sent to "/ui/", against which the page's
        // relative asset paths resolve.
        app.MapMethods("/ui/{**path}", [HttpMethods.Get, HttpMethods.Head], (HttpContext http, string? path) =>
            !string.IsNullOrEmpty(path) ? Serve(http, path)
            : http.Request.Path.Value!.EndsWith('/') ? Serve(http, "index.html")
            : Results.Redirect("/ui/" + http.Request.QueryString));
    }

    private static IResult Serve(HttpContext http, string path)
    {
        if (!Assets.Value.TryGetValue(path, out var asset))
        {
            return Results.NotFound();
        }

        var headers = http.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        headers.Vary = HeaderNames.AcceptEncoding;
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        if (asset.Gzipped is { } gzipped && http.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase))
        {
            headers.ContentEncoding = "gzip";
            return Results.Bytes(gzipped, asset.ContentType);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var extension = Path.GetExtension(name);
            var type = ContentTypes.GetValueOrDefault(extension, "application/octet-stream");
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"";
            assets[name[Prefix.Length..]] = new Asset(content, type, etag, type.StartsWith("text/", StringComparison.Ordinal) || extension == ".svg" ? Gzip(content) : null);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(content);
        }

        return output.ToArray();
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag, byte[]? Gzipped);
}

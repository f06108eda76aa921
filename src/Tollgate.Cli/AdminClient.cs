using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Cli;

/// <summary>The gateway's admin API over HTTP: JSON in, JSON out, errors as <see cref="AdminException"/>.</summary>
internal sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;

    public AdminClient(string url, string? key)
    {
        _http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(key))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancel) => SendAsync(HttpMethod.Get, path, null, cancel);

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await _http.SendAsync(request, cancel);
        var text = await response.Content.ReadAsStringAsync(cancel);
        if (!response.IsSuccessStatusCode)
        {
            throw AdminException.From((int)response.StatusCode, text);
        }

        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>GET as text (CSV reports).</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancel)
    {
        using var response = await _http.GetAsync(path.TrimStart('/'), cancel);
        var text = await response.Content.ReadAsStringAsync(cancel);
        return response.IsSuccessStatusCode ? text : throw AdminException.From((int)response.StatusCode, text);
    }

    /// <summary>Streams a GET into a file, reporting bytes as they arrive; returns the byte count.</summary>
    public async Task<long> DownloadAsync(string path, string file, Action<long, long?> progress, CancellationToken cancel)
    {
        using var response = await _http.GetAsync(path.TrimStart('/'), HttpCompletionOption.ResponseHeadersRead, cancel);
        if (!response.IsSuccessStatusCode)
        {
            throw AdminException.From((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancel));
        }

        var total = response.Content.Headers.ContentLength;
        await using var source = await response.Content.ReadAsStreamAsync(cancel);
        await using var target = File.Create(file);
        var buffer = new byte[81920];
        long written = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancel)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), cancel);
            written += read;
            progress(written, total);
        }

        return written;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>An error answer of the admin API, with its code and message.</summary>
internal sealed class AdminException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public static AdminException From(int status, string body)
    {
        try
        {
            var error = JsonNode.Parse(body)?["error"];
            return new AdminException(status, error?["code"]?.GetValue<string>() ?? "error", error?["message"]?.GetValue<string>() ?? body);
        }
        catch (JsonException)
        {
            return new AdminException(status, "error", $"HTTP {status}: {body}");
        }
    }
}

using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>
/// Console sign-in: what a browser would do, with cookies handled by hand (no cookie container) so the Set-Cookie
/// flags are what the tests see, and so no cookie leaks into the shared host's client.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ConsoleSessionTests(GatewayHost host) : IDisposable
{
    private readonly ConsoleBrowser _browser = new(host);

    public void Dispose() => _browser.Dispose();

    [Fact]
    public async Task An_admin_key_signs_in_with_a_strict_http_only_cookie_and_writes_need_the_csrf_token()
    {
        var (adminId, admin) = await host.CreateKey(new { name = "console-admin", role = "admin" });

        var session = await _browser.SignIn(admin);

        Assert.Equal("admin", session.Role);
        Assert.Equal("key:" + adminId, session.Actor);
        var flags = session.SetCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).ToList();
        Assert.Contains("httponly", flags, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", flags, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("path=/", flags, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", flags, StringComparer.OrdinalIgnoreCase);
        Assert.Contains(flags, f => f.StartsWith("expires=", StringComparison.OrdinalIgnoreCase));

        using var read = await _browser.Send(HttpMethod.Get, "/admin/keys", session.Cookie);
        using var noToken = await _browser.Send(HttpMethod.Post, "/admin/keys", session.Cookie, body: new { name = "from-console" });
        using var wrongToken = await _browser.Send(HttpMethod.Post, "/admin/keys", session.Cookie, "not-the-token", new { name = "from-console" });
        using var rightToken = await _browser.Send(HttpMethod.Post, "/admin/keys", session.Cookie, session.CsrfToken, new { name = "from-console" });

        Assert.Equal(200, (int)read.StatusCode);
        await ApiErrors.AssertError(noToken, "/admin/keys", 403, "csrf_failed");
        await ApiErrors.AssertError(wrongToken, "/admin/keys", 403, "csrf_failed");
        Assert.Equal(201, (int)rightToken.StatusCode);
        var createdId = JsonDocument.Parse(await rightToken.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var audit = await host.AdminJson(HttpMethod.Get, "/admin/audit");
        var entry = Assert.Single(audit.EnumerateArray(), e => e.GetProperty("target").GetString() == "keys/" + createdId);
        Assert.Equal("key:" + adminId, entry.GetProperty("actor").GetString());
    }

    [Fact]
    public async Task The_current_session_reads_back_with_its_csrf_token()
    {
        var (_, admin) = await host.CreateKey(new { name = "console-admin", role = "admin" });
        var session = await _browser.SignIn(admin);

        using var current = await _browser.Send(HttpMethod.Get, "/ui/api/session", session.Cookie);
        using var none = await _browser.Send(HttpMethod.Get, "/ui/api/session", cookie: null);

        Assert.Equal(200, (int)current.StatusCode);
        Assert.Equal("no-store", current.Headers.CacheControl?.ToString());
        var body = JsonDocument.Parse(await current.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(session.CsrfToken, body.GetProperty("csrf_token").GetString());
        Assert.Equal(session.Actor, body.GetProperty("actor").GetString());
        Assert.Equal(session.ExpiresAt, body.GetProperty("expires_at").GetDateTimeOffset());
        await ApiErrors.AssertError(none, "/ui/api/session", 401, "invalid_session");
    }

    [Fact]
    public async Task A_viewer_session_reads_but_cannot_write_even_with_the_csrf_token()
    {
        var (targetId, _) = await host.CreateKey();
        var (_, viewer) = await host.CreateKey(new { name = "console-viewer", role = "viewer" });
        var session = await _browser.SignIn(viewer);

        using var read = await _browser.Send(HttpMethod.Get, "/admin/keys/" + targetId, session.Cookie);
        using var post = await _browser.Send(HttpMethod.Post, "/admin/keys", session.Cookie, session.CsrfToken, new { name = "nope" });
        using var patch = await _browser.Send(HttpMethod.Patch, "/admin/keys/" + targetId, session.Cookie, session.CsrfToken, new { name = "nope" });
        using var delete = await _browser.Send(HttpMethod.Delete, "/admin/keys/" + targetId, session.Cookie, session.CsrfToken);

        Assert.Equal("viewer", session.Role);
        Assert.Equal(200, (int)read.StatusCode);
        await ApiErrors.AssertError(post, "/admin/keys", 403, "forbidden");
        await ApiErrors.AssertError(patch, "/admin/keys", 403, "forbidden");
        await ApiErrors.AssertError(delete, "/admin/keys", 403, "forbidden");
        var target = await host.AdminJson(HttpMethod.Get, "/admin/keys/" + targetId);
        Assert.False(target.TryGetProperty("revoked_at", out _));
    }

    [Fact]
    public async Task The_master_key_signs_in_as_admin_and_app_unknown_or_revoked_keys_do_not()
    {
        var (_, app) = await host.CreateKey();
        var (revokedId, revoked) = await host.CreateKey(new { name = "revoked-admin", role = "admin" });
        await host.AdminJson(HttpMethod.Delete, "/admin/keys/" + revokedId);

        var master = await _browser.SignIn(GatewayHost.MasterKey);
        using var appKey = await _browser.SignInResponse(app);
        using var unknown = await _browser.SignInResponse("tg-not-a-key");
        using var revokedKey = await _browser.SignInResponse(revoked);

        Assert.Equal("admin", master.Role);
        Assert.Equal("master", master.Actor);
        foreach (var refused in new[] { appKey, unknown, revokedKey })
        {
            await ApiErrors.AssertError(refused, "/ui/api/session", 401, "invalid_api_key");
            Assert.False(refused.Headers.Contains("Set-Cookie"));
        }
    }

    [Fact]
    public async Task Sign_out_ends_the_session_on_the_server_and_expires_the_cookie()
    {
        var session = await _browser.SignIn(GatewayHost.MasterKey);

        using var withoutToken = await _browser.Send(HttpMethod.Delete, "/ui/api/session", session.Cookie);
        using var signOut = await _browser.Send(HttpMethod.Delete, "/ui/api/session", session.Cookie, session.CsrfToken);
        using var afterwards = await _browser.Send(HttpMethod.Get, "/admin/keys", session.Cookie);
        using var current = await _browser.Send(HttpMethod.Get, "/ui/api/session", session.Cookie);

        await ApiErrors.AssertError(withoutToken, "/ui/api/session", 403, "csrf_failed");
        Assert.Equal(204, (int)signOut.StatusCode);
        var expired = Assert.Single(signOut.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("tollgate_session=;", expired, StringComparison.Ordinal);
        Assert.Contains("expires=Thu, 01 Jan 1970", expired, StringComparison.OrdinalIgnoreCase);
        await ApiErrors.AssertError(afterwards, "/admin/keys", 401, "invalid_session");
        await ApiErrors.AssertError(current, "/ui/api/session", 401, "invalid_session");
    }

    [Fact]
    public async Task Revoking_the_key_used_to_sign_in_ends_the_session()
    {
        var (adminId, admin) = await host.CreateKey(new { name = "soon-revoked", role = "admin" });
        var session = await _browser.SignIn(admin);
        using var before = await _browser.Send(HttpMethod.Get, "/admin/keys", session.Cookie);

        await host.AdminJson(HttpMethod.Delete, "/admin/keys/" + adminId);
        using var after = await _browser.Send(HttpMethod.Get, "/admin/keys", session.Cookie);

        Assert.Equal(200, (int)before.StatusCode);
        await ApiErrors.AssertError(after, "/admin/keys", 401, "invalid_session");
    }

    [Fact]
    public async Task A_key_demoted_to_viewer_demotes_its_session()
    {
        var (adminId, admin) = await host.CreateKey(new { name = "soon-viewer", role = "admin" });
        var session = await _browser.SignIn(admin);

        await host.AdminJson(HttpMethod.Patch, "/admin/keys/" + adminId, new { role = "viewer" });
        using var write = await _browser.Send(HttpMethod.Post, "/admin/keys", session.Cookie, session.CsrfToken, new { name = "nope" });
        using var read = await _browser.Send(HttpMethod.Get, "/admin/keys", session.Cookie);

        await ApiErrors.AssertError(write, "/admin/keys", 403, "forbidden");
        Assert.Equal(200, (int)read.StatusCode);
    }

    [Fact]
    public async Task A_bearer_header_decides_over_a_session_cookie_and_needs_no_csrf_token()
    {
        var (_, viewer) = await host.CreateKey(new { name = "console-viewer", role = "viewer" });
        var session = await _browser.SignIn(viewer);

        using var write = await _browser.Send(HttpMethod.Post, "/admin/keys", session.Cookie, body: new { name = "by-bearer" }, bearer: GatewayHost.MasterKey);

        Assert.Equal(201, (int)write.StatusCode);
    }

    [Fact]
    public async Task Sign_in_wants_a_json_body()
    {
        using var form = new HttpRequestMessage(HttpMethod.Post, host.BaseUrl + "/ui/api/session")
        {
            Content = new FormUrlEncodedContent([new("key", GatewayHost.MasterKey)]),
        };

        using var response = await _browser.Client.SendAsync(form);

        await ApiErrors.AssertError(response, "/ui/api/session", 400, "invalid_request");
    }

    [Fact]
    public async Task Only_a_hash_of_the_session_id_is_stored()
    {
        var session = await _browser.SignIn(GatewayHost.MasterKey);
        var id = session.Cookie["tollgate_session=".Length..];
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

        var rows = host.ReadRows("SELECT * FROM console_sessions");

        Assert.Equal(43, id.Length); // 32 random bytes, base64url without padding
        var row = Assert.Single(rows, r => r.Text("id_hash") == hash);
        Assert.Equal("master", row.Text("actor"));
        Assert.DoesNotContain(rows, r => r.Text("id_hash") == id || r.Text("csrf_token") == id || r.Text("actor") == id);
    }
}

/// <summary>Sessions end after TOLLGATE_SESSION_HOURS, driven by a fake clock.</summary>
public sealed class ConsoleSessionExpiryTests : IAsyncLifetime, IDisposable
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-11-30T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly GatewayHost _host;
    private readonly ConsoleBrowser _browser;

    public ConsoleSessionExpiryTests()
    {
        _host = new GatewayHost(s => { s.Redis = null; s.SessionHours = 2; }, _clock);
        _browser = new ConsoleBrowser(_host);
    }

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    public void Dispose() => _browser.Dispose();

    [Fact]
    public async Task A_session_ends_after_the_configured_hours()
    {
        var session = await _browser.SignIn(GatewayHost.MasterKey);
        Assert.Equal(_clock.GetUtcNow().AddHours(2), session.ExpiresAt);

        _clock.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        using var justBefore = await _browser.Send(HttpMethod.Get, "/admin/keys", session.Cookie);
        _clock.Advance(TimeSpan.FromSeconds(1));
        using var atExpiry = await _browser.Send(HttpMethod.Get, "/admin/keys", session.Cookie);
        using var current = await _browser.Send(HttpMethod.Get, "/ui/api/session", session.Cookie);

        Assert.Equal(200, (int)justBefore.StatusCode);
        await ApiErrors.AssertError(atExpiry, "/admin/keys", 401, "invalid_session");
        await ApiErrors.AssertError(current, "/ui/api/session", 401, "invalid_session");
    }
}

/// <summary>A master-key session lasts only as long as that master key.</summary>
public sealed class MasterKeySessionTests
{
    [Fact]
    public async Task A_new_master_key_ends_the_sessions_opened_with_the_old_one()
    {
        // Two gateways on one SQLite data directory: the second stands for the first restarted with another TOLLGATE_MASTER_KEY.
        await using var first = new GatewayHost(s => (s.Postgres, s.Redis) = (null, null));
        await first.InitializeAsync();
        using var browser = new ConsoleBrowser(first);
        var cookie = (await browser.SignIn(GatewayHost.MasterKey)).Cookie;
        using (var works = await browser.Send(HttpMethod.Get, "/admin/keys", cookie))
        {
            Assert.Equal(200, (int)works.StatusCode);
        }

        var restarted = await Gateway.Hosting.TollgateApp.BuildAsync([], s => (s.Urls, s.DataDir, s.MasterKey, s.Postgres, s.Redis) = ("http://127.0.0.1:0", first.DataDir, "tg-a-new-master-key", null, null));
        await using (restarted)
        {
            await restarted.StartAsync();
            var url = restarted.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false });
            using var request = new HttpRequestMessage(HttpMethod.Get, url + "/admin/keys");
            request.Headers.Add("Cookie", cookie);
            using var ended = await http.SendAsync(request);
            await ApiErrors.AssertError(ended, "/admin/keys", 401, "invalid_session");
            using var signIn = await http.PostAsJsonAsync(url + "/ui/api/session", new { key = "tg-a-new-master-key" });
            Assert.Equal("master", JsonDocument.Parse(await signIn.Content.ReadAsStringAsync()).RootElement.GetProperty("actor").GetString());
            await restarted.StopAsync();
        }
    }
}

/// <summary>A client that handles the session cookie by hand, as the tests need to see and send it.</summary>
internal sealed class ConsoleBrowser(GatewayHost host) : IDisposable
{
    public HttpClient Client { get; } = new(new SocketsHttpHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public Task<HttpResponseMessage> SignInResponse(string key) =>
        Client.PostAsJsonAsync(host.BaseUrl + "/ui/api/session", new { key });

    public async Task<Session> SignIn(string key)
    {
        using var response = await SignInResponse(key);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"sign-in → {(int)response.StatusCode}: {text}");
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("tollgate_session=", setCookie, StringComparison.Ordinal);
        var body = JsonDocument.Parse(text).RootElement;
        return new Session(
            setCookie.Split(';')[0],
            setCookie,
            body.GetProperty("role").GetString()!,
            body.GetProperty("actor").GetString()!,
            body.GetProperty("csrf_token").GetString()!,
            body.GetProperty("expires_at").GetDateTimeOffset());
    }

    public Task<HttpResponseMessage> Send(HttpMethod method, string path, string? cookie, string? csrf = null, object? body = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(method, host.BaseUrl + path);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        if (csrf is not null)
        {
            request.Headers.Add("X-CSRF-Token", csrf);
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return Client.SendAsync(request);
    }

    public void Dispose() => Client.Dispose();

    /// <summary>A signed-in session: the cookie pair to send back, the whole Set-Cookie line, and the JSON answer.</summary>
    public sealed record Session(string Cookie, string SetCookie, string Role, string Actor, string CsrfToken, DateTimeOffset ExpiresAt);
}

using System.Security.Cryptography;
using System.Text;
using Tollgate.Gateway.Hosting;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Admin;

/// <summary>
/// Console sign-in, the current session and sign-out (docs/api.md "Console sessions"), and how the admin API accepts a
/// session cookie in place of <c>Authorization: Bearer</c>.
/// </summary>
internal static class ConsoleSessionEndpoints
{
    private static readonly GatewayError NotConsoleKey = new(401, "invalid_api_key", "Sign in with an admin or viewer key, or the master key; this key is unknown, revoked, expired or an app key.");
    private static readonly GatewayError InvalidSession = new(401, "invalid_session", "No console session: it was signed out or has expired, or its key was revoked. Sign in again.");
    private static readonly GatewayError CsrfFailed = new(403, "csrf_failed", "A write under a console session must carry the session's token in the X-CSRF-Token header.");

    /// <summary>Carries the session id and nothing else; the browser never lets scripts read it (HttpOnly).</summary>
    public const string CookieName = "tollgate_session";

    /// <summary>Proves a write comes from the console's own page: another site can make the browser send the cookie, never this header.</summary>
    private const string CsrfHeader = "X-CSRF-Token";

    public static void MapConsoleSessions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/ui/api/session", SignInAsync);
        app.MapGet("/ui/api/session", async (HttpContext http, ConfigSync sync) =>
        {
            await sync.EnsureFreshAsync();
            return await FromCookieAsync(http) is { } session ? View(http, session) : AdminEndpoints.Error(InvalidSession);
        });
        app.MapDelete("/ui/api/session", SignOutAsync);
    }

    /// <summary>
    /// The admin caller behind the session cookie: 401 <c>invalid_session</c> without a live session, 403
    /// <c>csrf_failed</c> for a write without the session's token. The role check is the caller's, as for keys.
    /// </summary>
    public static async Task<(string Role, string Actor, IResult? Error)> AuthorizeAdminAsync(HttpContext http, bool readOnly)
    {
        if (await FromCookieAsync(http) is not { } session)
        {
            return ("", "", AdminEndpoints.Error(InvalidSession));
        }

        return readOnly || HasCsrfToken(http.Request, session) ? (session.Role, session.Actor, null) : ("", "", AdminEndpoints.Error(CsrfFailed));
    }

    private static async Task<IResult> SignInAsync(HttpRequest http, KeyService keys, ConfigSync sync, ConsoleSessionStore sessions)
    {
        // JSON only: a form on another site cannot send application/json without a CORS preflight, which is never
        // granted, so no page can sign a browser in to a session of its choosing (login CSRF).
        if (!http.HasJsonContentType())
        {
            return AdminEndpoints.Invalid("Send {\"key\": \"...\"} with Content-Type: application/json.");
        }

        var (request, error) = await AdminEndpoints.ReadAsync<SignInRequest>(http);
        if (request is null)
        {
            return error!;
        }

        if (string.IsNullOrEmpty(request.Key))
        {
            return AdminEndpoints.Invalid("'key' is required.", "key");
        }

        await sync.EnsureFreshAsync();
        var master = keys.IsMasterKey(request.Key);
        var (role, actor, keyId) = master ? (VirtualKey.AdminRole, "master", null)
            : keys.Authenticate(request.Key) is { Role: VirtualKey.AdminRole or VirtualKey.ViewerRole } key ? (key.Role, "key:" + key.Id, key.Id)
            : ("", "", (string?)null);
        if (role.Length == 0)
        {
            return AdminEndpoints.Error(NotConsoleKey);
        }

        var (id, session) = await sessions.CreateAsync(role, actor, keyId, master ? keys.MasterKeyHash : null, http.HttpContext.RequestAborted);
        http.HttpContext.Response.Cookies.Append(CookieName, id, CookieOptions(http, session.ExpiresAt));
        return View(http.HttpContext, session);
    }

    /// <summary>Deletes the session (a write: it needs the CSRF token) and expires the cookie; without a live session there is nothing to end.</summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, ConsoleSessionStore sessions)
    {
        if (http.Request.Cookies.TryGetValue(CookieName, out var id) && await sessions.FindAsync(id, http.RequestAborted) is { } session)
        {
            if (!HasCsrfToken(http.Request, session))
            {
                return AdminEndpoints.Error(CsrfFailed);
            }

            await sessions.DeleteAsync(id, http.RequestAborted);
        }

        http.Response.Cookies.Delete(CookieName, CookieOptions(http.Request, DateTimeOffset.UnixEpoch));
        return Results.NoContent();
    }

    /// <summary>
    /// The request's live session, checked against its key as the key is now: a revoked, expired or deleted key (or a
    /// changed master key) ends it,
    /// on every replica (keys are re-read when another replica changes one). A key demoted to viewer demotes its session;
    /// one promoted does not promote it (sign in again).
    /// </summary>
    private static async Task<ConsoleSession?> FromCookieAsync(HttpContext http)
    {
        if (!http.Request.Cookies.TryGetValue(CookieName, out var id)
            || await http.RequestServices.GetRequiredService<ConsoleSessionStore>().FindAsync(id, http.RequestAborted) is not { } session)
        {
            return null;
        }

        var keys = http.RequestServices.GetRequiredService<KeyService>();
        if (session.KeyId is not { } keyId)
        {
            // A master-key session lasts only as long as that master key.
            return keys.IsMasterKeyHash(session.MasterHash) ? session : null;
        }

        var key = keys.Get(keyId);
        if (key is null || !key.IsActive(http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()))
        {
            return null;
        }

        return key.Role switch
        {
            VirtualKey.AdminRole => session,
            VirtualKey.ViewerRole => session with { Role = VirtualKey.ViewerRole },
            _ => null,
        };
    }

    private static bool HasCsrfToken(HttpRequest request, ConsoleSession session) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(request.Headers[CsrfHeader].ToString()), Encoding.UTF8.GetBytes(session.CsrfToken));

    private static CookieOptions CookieOptions(HttpRequest request, DateTimeOffset expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = request.IsHttps,
        Path = "/",
        Expires = expires,
    };

    private static IResult View(HttpContext http, ConsoleSession session)
    {
        // The answer carries the CSRF token: no cache may keep it.
        http.Response.Headers.CacheControl = "no-store";
        return AdminEndpoints.Json(new SessionView(session.Role, session.Actor, session.CsrfToken, session.ExpiresAt));
    }

    private sealed record SignInRequest(string? Key);

    private sealed record SessionView(string Role, string Actor, string CsrfToken, DateTimeOffset ExpiresAt);
}

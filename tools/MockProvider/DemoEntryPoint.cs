namespace Tollgate.MockProvider;

/// <summary>
/// What the gateway's <c>--demo</c> mode calls. The gateway holds no compile-time reference to this assembly, so no
/// mock type is part of the production build: it loads <c>demo/Tollgate.MockProvider.dll</c> from beside itself and binds
/// this method by name to a delegate of runtime types only, <c>Func&lt;Task&lt;(string, IAsyncDisposable)&gt;&gt;</c>.
/// Keep the name and the signature, or demo mode fails at start.
/// </summary>
public static class DemoEntryPoint
{
    /// <summary>Starts the mock on a free loopback port; returns its root URL (no trailing slash) and what stops it.</summary>
    public static async Task<(string BaseUrl, IAsyncDisposable Server)> StartAsync()
    {
        var server = await MockProviderServer.StartAsync();
        return (server.BaseUrl, server);
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tollgate.MockProvider;

/// <summary>The mock provider on its own Kestrel listener: used by the standalone program, by <c>--demo</c> and by tests.</summary>
internal sealed class MockProviderServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MockProviderServer(WebApplication app, MockRequestLog log, string baseUrl)
    {
        _app = app;
        Log = log;
        BaseUrl = baseUrl;
    }

    /// <summary>Root URL without a trailing slash, e.g. <c>http://127.0.0.1:41234</c>; the API lives under <c>/v1</c>.</summary>
    public string BaseUrl { get; }

    public MockRequestLog Log { get; }

    public static async Task<MockProviderServer> StartAsync(string url = "http://127.0.0.1:0", MockOptions? options = null, string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var log = new MockRequestLog();
        var mockOptions = options ?? new MockOptions();
        app.MapMockProvider(mockOptions, log);
        app.MapMockResponses(mockOptions, log);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new MockProviderServer(app, log, address.TrimEnd('/'));
    }

    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

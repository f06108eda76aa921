using System.Reflection;
using System.Runtime.Loader;

namespace Tollgate.Gateway.Hosting;

/// <summary>
/// The mock provider of <c>--demo</c>, loaded only in demo mode from its own assembly, which the build copies to
/// <c>demo/</c> beside the gateway (see the csproj): production code references no mock type. A load context of its own
/// lets a process that already holds the mock (the test host) load it again; what the mock depends on (ASP.NET Core,
/// the tokenizer) falls through to the gateway's copies, so the gateway must keep those dependencies.
/// </summary>
internal static class DemoMock
{
    private const string EntryPoint = "Tollgate.MockProvider.DemoEntryPoint";

    /// <summary>Starts the mock on a free loopback port; returns its root URL and what stops it.</summary>
    public static async Task<(string BaseUrl, IAsyncDisposable Server)> StartAsync()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "demo", "Tollgate.MockProvider.dll");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"--demo needs the mock provider at {path}; it comes with a build or publish of the gateway project.");
        }

        var assembly = new AssemblyLoadContext("tollgate-demo").LoadFromAssemblyPath(path);
        var start = assembly.GetType(EntryPoint, throwOnError: true)!
            .GetMethod("StartAsync", BindingFlags.Public | BindingFlags.Static)!
            .CreateDelegate<Func<Task<(string, IAsyncDisposable)>>>();
        return await start();
    }
}

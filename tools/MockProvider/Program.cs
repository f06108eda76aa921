using System.Globalization;

namespace Tollgate.MockProvider;

/// <summary>
/// Standalone mock provider: <c>dotnet run --project tools/MockProvider -- --urls http://127.0.0.1:9000
/// [--prompt-tokens 12] [--completion-tokens 8] [--latency-ms 0] [--chunk-delay-ms 0]</c>.
/// </summary>
internal static class Program
{
    public static async Task Main(string[] args)
    {
        var options = new MockOptions
        {
            PromptTokens = Arg(args, "--prompt-tokens") ?? 12,
            CompletionTokens = Arg(args, "--completion-tokens") ?? 8,
            LatencyMs = Arg(args, "--latency-ms") ?? 0,
            ChunkDelayMs = Arg(args, "--chunk-delay-ms") ?? 0,
        };
        var url = Value(args, "--urls") ?? Environment.GetEnvironmentVariable("MOCK_URLS") ?? "http://127.0.0.1:9000";
        await using var server = await MockProviderServer.StartAsync(url, options);
        Console.WriteLine("mock provider listening on " + server.BaseUrl);
        await server.WaitForShutdownAsync();
    }

    private static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int? Arg(string[] args, string name) =>
        Value(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;
}

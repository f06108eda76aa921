using Tollgate.Gateway.Hosting;

var app = await TollgateApp.BuildAsync(args);
await app.RunAsync();

/// <summary>Entry point; public for <c>WebApplicationFactory</c>-style tests.</summary>
internal partial class Program;

using System.Text.Json;
using Tollgate.Gateway.Admin;
using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Ledger;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Proxy;
using Tollgate.Gateway.Storage;
using Tollgate.Gateway.Telemetry;

namespace Tollgate.Gateway.Hosting;

/// <summary>Builds the gateway: services, start-up (schema, master key, demo), endpoints.</summary>
internal static partial class TollgateApp
{
    public const string DemoKeyId = "key_demo";

    public static async Task<WebApplication> BuildAsync(string[] args, Action<GatewaySettings>? configure = null, Action<IServiceCollection>? services = null)
    {
        var settings = GatewaySettings.Load(args, Environment.GetEnvironmentVariable, out var rest);
        configure?.Invoke(settings);
        settings.Validate();
        Directory.CreateDirectory(settings.DataDir);

        var builder = WebApplication.CreateSlimBuilder(rest);
        builder.WebHost.UseUrls(settings.Urls);
        // https:// listen URLs, with the certificate from configuration (Kestrel__Certificates__Default__Path and
        // __Password, or --Kestrel:Certificates:Default:Path=…); the slim builder leaves HTTPS out otherwise.
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // enforced by the pipeline, in the API's own error shape
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            // Hosting starts an Activity per request whenever this category can log at all; we never want its request logs.
            .AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.ConfigureHttpJsonOptions(o => StoreJson.Configure(o.SerializerOptions));
        builder.Services.AddTollgate(settings);
        builder.Services.AddTollgateTelemetry(builder.Configuration);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        await InitializeAsync(app, settings);
        app.Use(CatchUnexpectedAsync);
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" }));
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapProxy();
        app.MapAdmin();
        app.MapConsoleSessions();
        Ui.ConsoleAssets.MapConsole(app);
        return app;
    }

    public static IServiceCollection AddTollgate(this IServiceCollection services, GatewaySettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Database>(_ => settings.Postgres is { } postgres
            ? new PostgresDatabase(postgres)
            : new SqliteDatabase(Path.Combine(settings.DataDir, "tollgate.db")));
        services.AddSingleton(_ => SecretProtector.Load(settings.SecretKey, settings.DataDir));
        services.AddSingleton<KeyService>();
        services.AddSingleton<ProviderRegistry>();
        services.AddSingleton<PriceCatalog>();
        services.AddSingleton<UsageQuery>();
        services.AddSingleton<RefusalLog>();
        services.AddHostedService(sp => sp.GetRequiredService<RefusalLog>());
        services.AddSingleton<LedgerWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerWriter>());
        services.AddSingleton<LedgerRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerRetention>());
        services.AddSingleton<ResponseOwners>();
        if (settings.Redis is { } redis)
        {
            // abortConnect=false: start even while Redis is down; calls then fail open or closed as configured.
            var options = StackExchange.Redis.ConfigurationOptions.Parse(redis);
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = 2000;
            options.SyncTimeout = 2000;
            options.AsyncTimeout = 2000;
            services.AddSingleton<StackExchange.Redis.IConnectionMultiplexer>(_ => StackExchange.Redis.ConnectionMultiplexer.Connect(options));
            services.AddSingleton<Governance.ICounterStore>(sp => new Governance.RedisCounterStore(sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), settings.RedisPrefix));
            services.AddSingleton<Governance.ICircuitStore>(sp => new Governance.RedisCircuitStore(sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), settings.RedisPrefix, TimeSpan.FromSeconds(settings.CircuitCooldownSeconds)));
            services.AddHostedService<Governance.CalibrationSync>();
            services.AddSingleton<Caching.ICacheStore>(sp => new Caching.RedisCacheStore(
                sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(), settings.RedisPrefix, sp.GetRequiredService<SecretProtector>(), sp.GetRequiredService<ILogger<Caching.RedisCacheStore>>()));
        }
        else
        {
            services.AddSingleton<Caching.ICacheStore>(sp => new Caching.MemoryCacheStore(settings.CacheMaxMb * 1024L * 1024, sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<Governance.ICounterStore, Governance.InMemoryCounterStore>();
            services.AddSingleton<Governance.ICircuitStore>(new Governance.CircuitBreakers(TimeSpan.FromSeconds(settings.CircuitCooldownSeconds)));
        }

        services.AddSingleton<Governance.InputCalibration>();
        services.AddSingleton<Governance.GovernanceStore>();
        services.AddSingleton<Routing.RouteTable>();
        services.AddSingleton<Routing.ComplexityModel>();
        services.AddSingleton<Caching.CachePolicyTable>();
        services.AddSingleton<Caching.ResponseCache>();
        services.AddSingleton<Caching.TextEmbedder>();
        services.AddSingleton<Caching.SemanticIndex>();
        services.AddSingleton<Governance.LinePlanner>();
        services.AddSingleton<Governance.GovernanceAlerts>();
        services.AddSingleton<Governance.Governor>();
        services.AddSingleton<Governance.CounterRebuilder>();
        services.AddSingleton<Governance.GovernanceStatus>();
        services.AddSingleton<Alerts.SpikeDetector>();
        services.AddSingleton<ConfigLoader>();
        services.AddSingleton<ConfigSync>();
        services.AddHostedService<Governance.CounterRecovery>();
        services.AddHostedService(sp => sp.GetRequiredService<ConfigSync>());
        services.AddHostedService(sp => sp.GetRequiredService<ConfigLoader>());
        services.AddSingleton(sp => AuditSnapshots.Register(new AuditLog(sp.GetRequiredService<Database>(), sp.GetRequiredService<TimeProvider>())));
        services.AddSingleton<ConsoleSessionStore>();
        services.AddSingleton<Alerts.AlertService>();
        services.AddHostedService(sp => sp.GetRequiredService<Alerts.AlertService>());
        services.AddHttpClient(Alerts.AlertService.HttpClientName).ConfigureHttpClient(c => c.Timeout = TimeSpan.FromSeconds(10)).RemoveAllLoggers();
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<Routing.TargetCooldowns>();
        services.AddSingleton<Routing.Router>();
        services.AddSingleton<ProxyPipeline>();
        services.AddHttpClient(UpstreamClient.Name)
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // What a proxy wants (as in YARP's ForwarderHttpClientFactory): no proxy, redirects, decompression or cookies.
                UseProxy = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = System.Net.DecompressionMethods.None,
                UseCookies = false,
                ConnectTimeout = TimeSpan.FromSeconds(15),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                EnableMultipleHttp2Connections = true,
                // An answer abandoned part-way (an oversized event, a timeout) closes its connection at once instead of
                // being drained: the provider may be sending without end.
                MaxResponseDrainSize = 0,
                MaxConnectionsPerServer = int.MaxValue,
                // No trace context to providers and no per-call Activity: Tollgate's own telemetry describes the call.
                ActivityHeadersPropagator = null,
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        return services;
    }

    private static async Task InitializeAsync(WebApplication app, GatewaySettings settings)
    {
        var services = app.Services;
        services.GetRequiredService<Database>().Migrate();
        var keys = services.GetRequiredService<KeyService>();
        var generatedMaster = keys.Initialize(settings.MasterKey);
        var providers = services.GetRequiredService<ProviderRegistry>();
        providers.Load();
        var prices = services.GetRequiredService<PriceCatalog>();
        if (generatedMaster is not null)
        {
            Console.WriteLine($"Tollgate master key (shown once, stored hashed): {generatedMaster}");
        }

        if (settings.Demo)
        {
            var (mockUrl, mock) = await DemoMock.StartAsync();
            app.Lifetime.ApplicationStopped.Register(() => mock.DisposeAsync().AsTask().GetAwaiter().GetResult());
            providers.Upsert("mock", ProviderKind.OpenAiCompatible, mockUrl + "/v1", null, ["echo", "small", "large", "embed"]);
            // Demo prices, unless an operator already set some (PUT /admin/prices/mock/*).
            prices.Load();
            if (!prices.HasOverride("mock", "*"))
            {
                prices.Set("mock", "*", new ModelPrice(1.00m, 0.10m, 1.25m, 2.00m, "USD"));
            }
            keys.Delete(DemoKeyId);
            var (_, secret) = keys.Create("demo", VirtualKey.AppRole, new KeyOwner(Team: "demo"), [], null, DemoKeyId);
            Console.WriteLine($"Demo mode: mock provider 'mock' at {mockUrl}; demo key: {secret}");
            Console.WriteLine("Try: curl -s http://<host:port>/v1/chat/completions -H \"Authorization: Bearer " + secret + "\" -H 'Content-Type: application/json' -d '{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'");
        }

        prices.Load();
        services.GetRequiredService<Governance.GovernanceStore>().Load();
        services.GetRequiredService<Routing.RouteTable>().Load();
        services.GetRequiredService<Caching.CachePolicyTable>().Load();
        services.GetRequiredService<ConfigLoader>().Load();
        if (services.GetRequiredService<Caching.CachePolicyTable>().AnySemantic)
        {
            _ = Task.Run(services.GetRequiredService<Caching.TextEmbedder>().Warm); // a semantic policy's first call does not wait for the model
        }
        try
        {
            await services.GetRequiredService<Governance.CounterRebuilder>().RebuildAsync([.. keys.List()]);
        }
        catch (Governance.CounterStoreUnavailableException e)
        {
            // Start anyway: rate limits fail open, hard limits fail closed until the store answers.
            LogCountersNotRebuilt(app.Logger, e.Message);
        }
    }

    /// <summary>
    /// Last line of defence: a bug must still answer in the called API's error shape (500 <c>internal_error</c>) and be
    /// logged, never leave an empty 500. Client mistakes never get here; they are answered by the pipeline.
    /// </summary>
    private static async Task CatchUnexpectedAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            LogUnexpected(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Tollgate.Unexpected"), e, context.Request.Method, context.Request.Path.Value);
            context.Response.Clear();
            var shape = context.Request.Path.StartsWithSegments(Protocols.ClientProtocol.Messages.Path) ? ErrorShape.Anthropic : ErrorShape.OpenAi;
            await ErrorWriter.WriteAsync(context, shape, new GatewayError(500, "internal_error", "Tollgate failed unexpectedly; the failure is logged."));
        }
    }

    private static void MapProxy(this WebApplication app)
    {
        var pipeline = app.Services.GetRequiredService<ProxyPipeline>();
        app.MapPost(Protocols.ClientProtocol.ChatCompletions.Path, context => pipeline.HandleAsync(context, Protocols.ClientProtocol.ChatCompletions));
        app.MapPost(Protocols.ClientProtocol.Embeddings.Path, context => pipeline.HandleAsync(context, Protocols.ClientProtocol.Embeddings));
        app.MapPost(Protocols.ClientProtocol.Messages.Path, context => pipeline.HandleAsync(context, Protocols.ClientProtocol.Messages));
        app.MapPost(Protocols.ClientProtocol.Responses.Path, context => pipeline.HandleAsync(context, Protocols.ClientProtocol.Responses));
        // Codex CLI first tries the Responses API over a WebSocket: refuse at once so it falls back to SSE without delay.
        app.MapGet(Protocols.ClientProtocol.Responses.Path, context => ErrorWriter.WriteAsync(context, ErrorShape.OpenAi, GatewayError.WebSocketNotSupported));
        app.MapGet("/v1/responses/{id}", (HttpContext context, string id) => pipeline.HandleFollowUpAsync(context, id, "responses.retrieve", ""));
        app.MapDelete("/v1/responses/{id}", (HttpContext context, string id) => pipeline.HandleFollowUpAsync(context, id, "responses.delete", ""));
        app.MapPost("/v1/responses/{id}/cancel", (HttpContext context, string id) => pipeline.HandleFollowUpAsync(context, id, "responses.cancel", "/cancel"));
        app.MapGet("/v1/responses/{id}/input_items", (HttpContext context, string id) => pipeline.HandleFollowUpAsync(context, id, "responses.input_items", "/input_items"));
        app.MapGet("/v1/models", ModelsEndpoint.HandleAsync);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counters were not rebuilt from the ledger at start: {Reason}")]
    private static partial void LogCountersNotRebuilt(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure on {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string? path);
}

using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Tollgate.Gateway.Telemetry;

/// <summary>
/// Metrics always feed the Prometheus endpoint (<c>GET /metrics</c>). OTLP export of spans and metrics starts when the
/// standard variables name an endpoint (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, or the <c>_TRACES_</c>/<c>_METRICS_</c>
/// ones); protocol, headers, intervals and resource attributes come from the other <c>OTEL_*</c> variables, read by
/// the OpenTelemetry SDK itself.
/// </summary>
internal static class TelemetrySetup
{
    public static IServiceCollection AddTollgateTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<GatewayTelemetry>();
        bool Exports(string signal) => !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrEmpty(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);

        var otel = services.AddOpenTelemetry().ConfigureResource(r =>
        {
            if (string.IsNullOrEmpty(configuration["OTEL_SERVICE_NAME"]))
            {
                r.AddService("tollgate", serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString());
            }
        });
        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter(GatewayTelemetry.Name).AddPrometheusExporter();
            if (Exports("METRICS"))
            {
                metrics.AddOtlpExporter();
            }
        });
        if (Exports("TRACES"))
        {
            otel.WithTracing(tracing => tracing.AddSource(GatewayTelemetry.Name).AddOtlpExporter());
        }

        return services;
    }
}

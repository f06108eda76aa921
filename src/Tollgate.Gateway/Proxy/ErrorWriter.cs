using System.Buffers;
using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace Tollgate.Gateway.Proxy;

/// <summary>The one place that turns a <see cref="GatewayError"/> into a response in the called API's shape.</summary>
internal static class ErrorWriter
{
    public const string ErrorCodeHeader = "X-Tollgate-Error-Code";

    /// <summary>Refuses a call to the model APIs: counted as a refusal (telemetry and the overview's refusals), then written.</summary>
    public static Task WriteAsync(HttpContext context, ErrorShape shape, GatewayError error)
    {
        if (!context.Response.HasStarted && !error.Code.StartsWith("upstream_", StringComparison.Ordinal))
        {
            Telemetry.GatewayTelemetry.Rejected(error.Code);
            context.RequestServices?.GetService<Ledger.RefusalLog>()?.Count(error.Code);
        }

        return WriteResponseAsync(context, shape, error);
    }

    /// <summary>Writes the error without counting it (the admin API's errors refuse no model call).</summary>
    public static Task WriteResponseAsync(HttpContext context, ErrorShape shape, GatewayError error)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Nothing honest can be added to a response already under way; close it so the client sees a cut.
            context.Abort();
            return Task.CompletedTask;
        }

        response.StatusCode = error.Status;
        response.Headers[ErrorCodeHeader] = error.Code;
        if (error.RetryAfterSeconds is { } retryAfter)
        {
            response.Headers[HeaderNames.RetryAfter] = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        response.Headers[HeaderNames.ContentType] = "application/json";
        return response.Body.WriteAsync(Body(shape, error)).AsTask();
    }

    /// <summary>The error body in the called API's shape (also the payload of a stream's error event).</summary>
    public static byte[] Body(ErrorShape shape, GatewayError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Storage.JsonOutput.WriterOptions))
        {
            w.WriteStartObject();
            if (shape == ErrorShape.Anthropic)
            {
                w.WriteString("type", "error");
                w.WriteStartObject("error");
                w.WriteString("type", AnthropicType(error.Status));
                w.WriteString("message", error.Code + ": " + error.Message);
                w.WriteEndObject();
            }
            else
            {
                w.WriteStartObject("error");
                w.WriteString("message", error.Message);
                w.WriteString("type", OpenAiType(error.Status));
                w.WriteString("code", error.Code);
                if (error.Param is null)
                {
                    w.WriteNull("param");
                }
                else
                {
                    w.WriteString("param", error.Param);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The Responses API's stream error event payload: <c>{"type":"error","code","message","param"}</c>.</summary>
    public static byte[] ResponsesStreamError(GatewayError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Storage.JsonOutput.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type", "error");
            w.WriteString("code", error.Code);
            w.WriteString("message", error.Message);
            w.WriteNull("param");
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string OpenAiType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string AnthropicType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };
}

internal enum ErrorShape
{
    OpenAi,
    Anthropic,
}

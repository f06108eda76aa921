namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>Finish/stop reasons and error types, each mapping written once for both directions.</summary>
internal static class Reasons
{
    /// <summary>Anthropic <c>stop_reason</c> → Chat <c>finish_reason</c>.</summary>
    public static string ToFinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop", // end_turn, stop_sequence, pause_turn
    };

    /// <summary>Chat <c>finish_reason</c> → Anthropic <c>stop_reason</c>.</summary>
    public static string ToStopReason(string? finishReason) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>An Anthropic error type → the OpenAI error <c>code</c> (the type follows the status, as the gateway's own errors).</summary>
    public static string? ToOpenAiCode(string? anthropicType) => anthropicType switch
    {
        "invalid_request_error" => null,
        "authentication_error" => "invalid_api_key",
        "permission_error" => "permission_denied",
        "not_found_error" => "model_not_found",
        "request_too_large" => "request_too_large",
        "rate_limit_error" => "rate_limit_exceeded",
        "overloaded_error" => "overloaded",
        "api_error" => "server_error",
        "billing_error" => "insufficient_quota",
        _ => null,
    };

    /// <summary>The OpenAI error <c>type</c> for a status (what the gateway's own errors use).</summary>
    public static string ToOpenAiType(int status, string? anthropicType) => anthropicType switch
    {
        "invalid_request_error" or "request_too_large" => "invalid_request_error",
        "authentication_error" => "authentication_error",
        "permission_error" => "permission_error",
        "not_found_error" => "not_found_error",
        "rate_limit_error" => "rate_limit_error",
        "overloaded_error" or "api_error" => "server_error",
        _ => status switch
        {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            >= 500 => "server_error",
            _ => "invalid_request_error",
        },
    };

    /// <summary>An OpenAI error (code first, then type, then status) → the Anthropic error type.</summary>
    public static string ToAnthropicType(int status, string? code, string? type)
    {
        switch (code)
        {
            case "invalid_api_key":
                return "authentication_error";
            case "rate_limit_exceeded":
            case "insufficient_quota":
                return "rate_limit_error";
            case "model_not_found":
                return "not_found_error";
            case "context_length_exceeded":
                return "invalid_request_error";
        }

        return type switch
        {
            "authentication_error" => "authentication_error",
            "permission_error" => "permission_error",
            "not_found_error" => "not_found_error",
            "rate_limit_error" or "tokens" or "requests" => "rate_limit_error",
            _ => status switch
            {
                401 => "authentication_error",
                403 => "permission_error",
                404 => "not_found_error",
                413 => "request_too_large",
                429 => "rate_limit_error",
                503 or 529 => "overloaded_error",
                >= 500 => "api_error",
                _ => "invalid_request_error",
            },
        };
    }
}

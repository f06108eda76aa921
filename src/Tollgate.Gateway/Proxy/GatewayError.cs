namespace Tollgate.Gateway.Proxy;

/// <summary>An outcome that ends a request with an error from the contract's table (docs/api.md "Errors").</summary>
internal sealed record GatewayError(int Status, string Code, string Message, string? Param = null)
{
    /// <summary>Sent as <c>Retry-After</c> (429 answers).</summary>
    public long? RetryAfterSeconds { get; init; }

    public static GatewayError InvalidRequest(string message, string? param = null) => new(400, "invalid_request", message, param);

    public static GatewayError MissingAttribution(string header) =>
        new(400, "missing_attribution", $"The attribution header {header} is required by policy.", header);

    public static readonly GatewayError InvalidApiKey = new(401, "invalid_api_key", "The API key is unknown, revoked or expired.");

    public static readonly GatewayError MissingApiKey = new(401, "invalid_api_key", "No API key was sent: use 'Authorization: Bearer <key>'.");

    public static GatewayError ModelNotAllowed(string model) => new(403, "model_not_allowed", $"This key may not use the model '{model}'.", "model");

    public static GatewayError ModelNotFound(string model) =>
        new(404, "model_not_found", $"No provider serves the model '{model}'. Use 'provider/model' or a route alias; GET /v1/models lists them.", "model");

    public static GatewayError ResponseNotFound(string id) => new(404, "not_found", $"No response with id '{id}' was created with this key.");

    public static readonly GatewayError WebSocketNotSupported =
        new(426, "websocket_not_supported", "The Responses API over WebSocket is not supported; send POST /v1/responses (SSE with stream: true).");

    public static readonly GatewayError GovernanceUnavailable =
        new(503, "governance_unavailable", "The counter store needed to enforce a budget or quota is unreachable; the call was refused rather than let through unchecked.");

    public static GatewayError RequestTooLarge(long limit) => new(413, "request_too_large", $"The request body is larger than the limit of {limit} bytes.");

    public static GatewayError UpstreamError(string message) => new(502, "upstream_error", message);

    public static GatewayError UpstreamTimeout(string provider) => new(504, "upstream_timeout", $"The provider '{provider}' did not answer in time.");
}

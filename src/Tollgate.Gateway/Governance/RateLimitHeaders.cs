namespace Tollgate.Gateway.Governance;

/// <summary>
/// The tightest requests and tokens limits after a reservation (or as they stood when it was refused). The client-facing
/// protocol writes them in its API's header style (<see cref="Protocols.ClientProtocol.WriteRateHeaders"/>).
/// </summary>
internal sealed record RateLimitHeaders(RateState? Requests, RateState? Tokens);

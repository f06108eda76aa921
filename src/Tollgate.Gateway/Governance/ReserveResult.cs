using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Governance;

/// <summary>What a reservation came to: a lease to settle, or the error to answer; and the rate-limit state for the headers.</summary>
internal readonly record struct ReserveResult(Reservation? Lease, GatewayError? Error, RateLimitHeaders? RateHeaders);

namespace Tollgate.Gateway.Governance;

internal sealed record QuotaUsage(string Consumer, DateTimeOffset CycleStart, DateTimeOffset CycleEnd, long LimitTokens, long UsedTokens, long RemainingTokens, long InputTokens, long OutputTokens, long CachedTokens, long TotalTokens);

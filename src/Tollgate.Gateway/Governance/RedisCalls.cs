using StackExchange.Redis;

namespace Tollgate.Gateway.Governance;

/// <summary>How every governance call reaches Redis: fail fast while disconnected, and one exception type for "unreachable".</summary>
internal static class RedisCalls
{
    public static async Task<RedisResult> RunAsync(IConnectionMultiplexer redis, Func<IDatabase, Task<RedisResult>> call)
    {
        // The multiplexer reconnects in the background; waiting out a timeout per call would stall every request.
        if (!redis.IsConnected)
        {
            throw new CounterStoreUnavailableException("Redis is not connected.");
        }

        try
        {
            return await call(redis.GetDatabase());
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or ObjectDisposedException)
        {
            throw new CounterStoreUnavailableException(e);
        }
    }
}

using StackExchange.Redis;

namespace Tollgate.Tests.Infrastructure;

/// <summary>The redis-server test.sh starts (TOLLGATE_TEST_REDIS, default 127.0.0.1:6390).</summary>
public static class TestRedis
{
    public static readonly string Address = Environment.GetEnvironmentVariable("TOLLGATE_TEST_REDIS") ?? "127.0.0.1:6390";

    private static readonly Lazy<IConnectionMultiplexer> Shared = new(() => ConnectionMultiplexer.Connect(Address));

    public static IConnectionMultiplexer Connection => Shared.Value;
}

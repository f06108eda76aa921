namespace Tollgate.Tests.Infrastructure;

/// <summary>A gateway whose counters live in the test redis-server, under a prefix of its own.</summary>
public sealed class RedisGatewayHost : IAsyncLifetime
{
    public GatewayHost Host { get; } = new(s =>
    {
        s.Redis = TestRedis.Address;
        s.RedisPrefix = "test:" + Guid.NewGuid().ToString("N") + ":";
    });

    public Task InitializeAsync() => Host.InitializeAsync();

    public Task DisposeAsync() => Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class RedisGatewayCollection : ICollectionFixture<RedisGatewayHost>
{
    public const string Name = "gateway-redis";
}

using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The governance tests against Redis counters shared by replicas (every reservation one Lua script).</summary>
[Collection(RedisGatewayCollection.Name)]
public sealed class RedisGovernanceTests(RedisGatewayHost redis) : GovernanceTests(redis.Host);

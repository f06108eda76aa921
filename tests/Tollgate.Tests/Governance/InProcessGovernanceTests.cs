using Tollgate.Tests.Infrastructure;

namespace Tollgate.Tests;

/// <summary>The governance tests against in-process counters (on Redis in the suite's PostgreSQL + Redis run).</summary>
[Collection(GatewayCollection.Name)]
public sealed class InProcessGovernanceTests(GatewayHost host) : GovernanceTests(host);

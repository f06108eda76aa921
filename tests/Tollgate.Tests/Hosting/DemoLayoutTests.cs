using Tollgate.Gateway.Hosting;

namespace Tollgate.Tests.Unit;

/// <summary>The mock provider stays out of the production assembly and still ships beside it for <c>--demo</c>.</summary>
public sealed class DemoLayoutTests
{
    [Fact]
    public void The_gateway_assembly_references_no_mock_assembly()
    {
        var references = typeof(TollgateApp).Assembly.GetReferencedAssemblies();

        Assert.DoesNotContain(references, name => name.Name!.Contains("Mock", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void The_build_puts_the_mock_in_demo_beside_the_gateway()
    {
        var gatewayDirectory = Path.GetDirectoryName(typeof(TollgateApp).Assembly.Location)!;

        Assert.True(File.Exists(Path.Combine(gatewayDirectory, "demo", "Tollgate.MockProvider.dll")));
    }
}

namespace Tollgate.Gateway.Routing;

/// <summary>Placeholder replaced by the classifier branch.</summary>
internal enum Complexity
{
    Low,
    High,
}

/// <summary>Placeholder replaced by the classifier branch.</summary>
internal static class ComplexityClassifier
{
    public static Complexity Classify(ReadOnlySpan<char> prompt) => prompt.Length > 0 ? Complexity.Low : Complexity.Low;
}

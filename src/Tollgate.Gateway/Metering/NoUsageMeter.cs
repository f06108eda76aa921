namespace Tollgate.Gateway.Metering;

/// <summary>For provider calls that generate nothing (Responses API follow-ups): recorded, at zero tokens.</summary>
internal sealed class NoUsageMeter : UsageMeter
{
    public NoUsageMeter() => MarkNothingBilled();

    public override void ReadResponse(ReadOnlySpan<byte> json)
    {
    }

    public override SseAction OnEvent(ReadOnlySpan<byte> data) => SseAction.Forward;
}

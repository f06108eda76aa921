using System.Buffers;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>Placeholder until the translation branch lands.</summary>
internal abstract class StreamTranslator
{
    public abstract bool Finished { get; }

    public abstract void OnEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output);
}

using System.Buffers;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>
/// Translates one streamed answer event by event. Not thread-safe: one instance per call, fed in order.
/// </summary>
internal abstract class StreamTranslator
{
    /// <summary>
    /// <paramref name="data"/> is the payload of one provider event's <c>data:</c> line (both APIs put the event type in
    /// it; Chat ends with <c>[DONE]</c>). Writes zero or more complete client events, each ended by a blank line.
    /// Events after <see cref="Finished"/> are ignored.
    /// </summary>
    public abstract void OnEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output);

    /// <summary>
    /// True once the client's terminal event is written: Chat <c>data: [DONE]</c>, Messages <c>message_stop</c>, or
    /// the error event that translated a provider's stream error (nothing follows it).
    /// </summary>
    public abstract bool Finished { get; }
}

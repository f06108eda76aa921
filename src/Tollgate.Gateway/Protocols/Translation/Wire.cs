using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols.Translation;

/// <summary>Byte-level helpers shared by both directions: raw writes to an <see cref="IBufferWriter{T}"/>, the JSON options.</summary>
internal static class Wire
{
    public static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 256 };

    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 256 };

    /// <summary>Text sent to providers and clients keeps non-ASCII characters as they are (JSON escaping only).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = Storage.JsonOutput.Encoder, SkipValidation = true };

    public static void Put(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    public static void PutInt(IBufferWriter<byte> output, long value)
    {
        Utf8Formatter.TryFormat(value, output.GetSpan(20), out var written);
        output.Advance(written);
    }

    /// <summary>The raw bytes of the current token (a string token with its quotes: already valid JSON).</summary>
    public static ReadOnlySpan<byte> RawToken(ReadOnlySpan<byte> json, ref readonly Utf8JsonReader reader) =>
        json.Slice((int)reader.TokenStartIndex, (int)(reader.BytesConsumed - reader.TokenStartIndex));

    /// <summary>Reads a string or null value after a property name; other values are skipped and read as null.</summary>
    public static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    /// <summary>Reads a number after a property name; anything else reads as null.</summary>
    public static long? ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
        {
            return value;
        }

        reader.Skip();
        return null;
    }

    public static long Unix(TimeProvider time) => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Parses a JSON body the request translation reads as a document; the rented copy is returned by <see cref="Dispose"/>.</summary>
    internal sealed class PooledDocument : IDisposable
    {
        private byte[] _array;

        private PooledDocument(byte[] array, JsonDocument document)
        {
            _array = array;
            Document = document;
        }

        public JsonDocument Document { get; }

        public JsonElement Root => Document.RootElement;

        /// <summary>Null when the body is not JSON.</summary>
        public static PooledDocument? Parse(ReadOnlySpan<byte> json)
        {
            var array = ArrayPool<byte>.Shared.Rent(Math.Max(json.Length, 1));
            json.CopyTo(array);
            try
            {
                return new PooledDocument(array, JsonDocument.Parse(array.AsMemory(0, json.Length), DocumentOptions));
            }
            catch (JsonException)
            {
                ArrayPool<byte>.Shared.Return(array);
                return null;
            }
        }

        public void Dispose()
        {
            Document.Dispose();
            var array = Interlocked.Exchange(ref _array, []);
            if (array.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(array);
            }
        }
    }
}

/// <summary><see cref="PooledBuffer"/> as an <see cref="IBufferWriter{T}"/>, for a <see cref="Utf8JsonWriter"/>.</summary>
internal sealed class PooledBufferWriter(PooledBuffer buffer) : IBufferWriter<byte>
{
    public void Advance(int count) => buffer.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => buffer.GetMemory(Math.Max(sizeHint, 256));

    public Span<byte> GetSpan(int sizeHint = 0) => buffer.GetMemory(Math.Max(sizeHint, 256)).Span;
}

using System.Text;
using System.Text.Json;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Protocols;

/// <summary>
/// Produces the body sent upstream by splicing the client's bytes: the <c>provider/</c> prefix comes off the model (a
/// route's name is replaced by its target's model), and a streaming chat request gets <c>stream_options.include_usage</c> so the provider reports usage.
/// Every other byte passes through untouched.
/// </summary>
internal static class BodyRewriter
{
    private static readonly byte[] StreamOptionsProperty = "\"stream_options\":{\"include_usage\":true},"u8.ToArray();
    private static readonly byte[] StreamOptionsValue = "{\"include_usage\":true}"u8.ToArray();
    private static readonly byte[] IncludeUsageProperty = "\"include_usage\":true,"u8.ToArray();
    private static readonly byte[] True = "true"u8.ToArray();

    public static PooledBuffer Rewrite(ReadOnlySpan<byte> body, in ParsedRequest request, string upstreamModel, bool ensureIncludeUsage)
    {
        Span<Edit> edits = stackalloc Edit[2];
        var count = 0;
        var prefixBytes = Encoding.UTF8.GetByteCount(request.Model) - Encoding.UTF8.GetByteCount(upstreamModel);
        byte[]? modelToken = null;
        if (request.ModelEscaped || !request.Model.EndsWith(upstreamModel, StringComparison.Ordinal))
        {
            modelToken = JsonSerializer.SerializeToUtf8Bytes(upstreamModel);
            edits[count++] = new Edit(request.ModelTokenStart, request.ModelTokenLength, 0);
        }
        else if (prefixBytes > 0)
        {
            edits[count++] = new Edit(request.ModelTokenStart + 1, prefixBytes, -1);
        }

        if (ensureIncludeUsage && !request.IncludeUsage)
        {
            edits[count++] = request switch
            {
                { StreamOptionsStart: < 0 } => new Edit(request.RootBodyStart, 0, 1),
                { StreamOptionsIsObject: false } or { StreamOptionsEmpty: true } => new Edit(request.StreamOptionsStart, request.StreamOptionsLength, 2),
                { IncludeUsageStart: >= 0 } => new Edit(request.IncludeUsageStart, request.IncludeUsageLength, 3),
                _ => new Edit(request.StreamOptionsStart + 1, 0, 4),
            };
        }

        if (count == 2 && edits[1].Offset < edits[0].Offset)
        {
            (edits[0], edits[1]) = (edits[1], edits[0]);
        }

        var output = new PooledBuffer(body.Length + 64);
        var position = 0;
        foreach (var edit in edits[..count])
        {
            output.Append(body[position..edit.Offset]);
            output.Append(edit.Insert switch
            {
                0 => modelToken,
                1 => StreamOptionsProperty,
                2 => StreamOptionsValue,
                3 => True,
                4 => IncludeUsageProperty,
                _ => [],
            });
            position = edit.Offset + edit.Remove;
        }

        output.Append(body[position..]);
        return output;
    }

    /// <summary>Remove <see cref="Remove"/> bytes at <see cref="Offset"/> and insert the numbered replacement there.</summary>
    private readonly record struct Edit(int Offset, int Remove, int Insert);
}

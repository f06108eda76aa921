using System.Text.Json;
using Tollgate.Gateway.Proxy;

namespace Tollgate.Gateway.Metering;

/// <summary>
/// Reads usage from the bytes of one provider response as they pass: the whole body of a non-streaming answer,
/// or each SSE event of a stream. Keeps the output text only as raw bytes for a tokenizer estimate when the
/// provider never reports usage (stream cut, error mid-stream); nothing is stored.
/// </summary>
internal abstract class UsageMeter : IDisposable
{
    protected static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 256 };

    private PooledBuffer? _outputText;

    public long? Input { get; protected set; }

    public long Cached { get; protected set; }

    public long CacheWrite { get; protected set; }

    public long? Output { get; protected set; }

    public long Reasoning { get; protected set; }

    /// <summary>True once the provider reported final usage.</summary>
    public bool Complete { get; protected set; }

    public string? ServedModel { get; protected set; }

    public string? ResponseId { get; protected set; }

    /// <summary>Why generation stopped (<c>stop</c>, <c>length</c>, <c>end_turn</c>, <c>completed</c>, …), as the provider said it; for telemetry.</summary>
    public string? FinishReason { get; protected set; }

    /// <summary>Set when the provider signalled an error inside an otherwise successful response (an SSE error event).</summary>
    public string? StreamError { get; protected set; }

    /// <summary>Reads a complete non-streaming response body.</summary>
    public abstract void ReadResponse(ReadOnlySpan<byte> json);

    /// <summary>Reads one SSE event's data and decides what the client gets of it.</summary>
    public abstract SseAction OnEvent(ReadOnlySpan<byte> data);

    /// <summary>Final figures: reported ones where the provider sent them, tokenizer estimates for the rest.</summary>
    public (TokenUsage Usage, bool Estimated) Result(Func<long> estimateInput)
    {
        if (Complete)
        {
            return (new TokenUsage(Input ?? 0, Cached, CacheWrite, Output ?? 0, Reasoning), false);
        }

        var output = Math.Max(Output ?? 0, _outputText is null ? 0 : TokenEstimator.CountText(_outputText.Span));
        return (new TokenUsage(Input ?? estimateInput(), Cached, CacheWrite, output, Reasoning), true);
    }

    /// <summary>Usage that the provider rejected before generating anything: nothing is billed.</summary>
    public void MarkNothingBilled()
    {
        Input ??= 0;
        Output ??= 0;
        Complete = true;
    }

    protected void AppendOutputText(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.HasValueSequence)
        {
            (_outputText ??= new PooledBuffer(1024)).Append(reader.ValueSpan);
        }
    }

    protected static long ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : 0;
    }

    protected static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }

    /// <summary>
    /// Reads an OpenAI usage object (reader on its <c>{</c>). Chat Completions and the Responses API name the same four
    /// figures differently: <c>prompt_tokens</c>/<c>input_tokens</c>, <c>completion_tokens</c>/<c>output_tokens</c> and their details.
    /// </summary>
    protected void ReadOpenAiUsage(ref Utf8JsonReader reader, ReadOnlySpan<byte> input, ReadOnlySpan<byte> output, ReadOnlySpan<byte> inputDetails, ReadOnlySpan<byte> outputDetails)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(input))
            {
                Input = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals(output))
            {
                Output = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals(inputDetails))
            {
                Cached = ReadDetail(ref reader, "cached_tokens"u8);
            }
            else if (reader.ValueTextEquals(outputDetails))
            {
                Reasoning = ReadDetail(ref reader, "reasoning_tokens"u8);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        Output ??= 0; // embeddings report input only
        Complete = Input is not null;
    }

    /// <summary>Reads one number from a details object such as <c>prompt_tokens_details</c>.</summary>
    protected static long ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return 0;
        }

        long value = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                value = ReadLong(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return value;
    }

    /// <summary>Skips the value after a property name.</summary>
    protected static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    public void Dispose()
    {
        _outputText?.Dispose();
        GC.SuppressFinalize(this);
    }
}

internal enum SseAction
{
    Forward,
    Drop,

    /// <summary>Forward without the <c>"usage":null</c> member the provider added only because the gateway asked for usage.</summary>
    ForwardWithoutNullUsage,
}

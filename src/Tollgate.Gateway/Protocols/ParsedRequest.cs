namespace Tollgate.Gateway.Protocols;

/// <summary>
/// What the pipeline needs from a request body, read in one forward pass without building a DOM.
/// Offsets point into the original bytes so the body can be forwarded with small splices instead of re-serialized.
/// </summary>
#pragma warning disable CA1051 // a plain field struct, passed by reference through the parser on the hot path
internal struct ParsedRequest
{
    public string Model;

    /// <summary>Byte range of the <c>model</c> string token, quotes included.</summary>
    public int ModelTokenStart;
    public int ModelTokenLength;
    public bool ModelEscaped;

    public bool Stream;

    /// <summary><c>max_tokens</c>, <c>max_completion_tokens</c> or <c>max_output_tokens</c>, when sent.</summary>
    public long? MaxTokens;

    /// <summary>Offset just past the root object's <c>{</c>.</summary>
    public int RootBodyStart;

    /// <summary>State of <c>stream_options</c>: value token range (-1 when absent), and of <c>include_usage</c> inside it.</summary>
    public int StreamOptionsStart;
    public int StreamOptionsLength;
    public bool StreamOptionsIsObject;
    public bool StreamOptionsEmpty;
    public int IncludeUsageStart;
    public int IncludeUsageLength;
    public bool IncludeUsage;

    public bool HasMessages;
    public bool HasInput;

    /// <summary>Responses API: asynchronous execution, which the gateway cannot meter yet.</summary>
    public bool Background;

    /// <summary>Responses API: the response this one continues; it must come from the same provider and key.</summary>
    public string? PreviousResponseId;
}

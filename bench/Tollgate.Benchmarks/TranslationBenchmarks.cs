using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Tollgate.Gateway.Protocols.Translation;
using Translator = Tollgate.Gateway.Protocols.Translation.Translation;

namespace Tollgate.Benchmarks;

/// <summary>
/// Chat Completions ↔ Anthropic Messages translation, what a call crossing providers pays: the request once per call
/// (a multi-turn agent conversation with tools, both ways), a whole answer once per call, and a streamed text token
/// once per token (both ways).
/// </summary>
public class TranslationBenchmarks
{
    private static readonly string Tools = """
        {"type":"function","function":{"name":"get_weather","description":"Get the current weather in a given location","parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}},
        {"type":"function","function":{"name":"search_docs","description":"Full-text search over the product documentation","parameters":{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":50}},"required":["query"]}}},
        {"type":"function","function":{"name":"create_ticket","description":"Open a support ticket","parameters":{"type":"object","properties":{"title":{"type":"string"},"body":{"type":"string"},"priority":{"type":"string","enum":["low","normal","high"]}},"required":["title","body"]}}}
        """;

    private static readonly byte[] ChatRequest = Encoding.UTF8.GetBytes($$$"""
        {"model":"support-agent","stream":true,"max_completion_tokens":1024,"temperature":0.3,"user":"user-42",
         "messages":[
          {"role":"system","content":"{{{string.Concat(Enumerable.Repeat("You are a support agent for Acme. Answer precisely, cite the docs, open a ticket when the user asks. ", 8))}}}"},
          {"role":"user","content":"What's the weather in Paris and Bogotá, and how do I rotate my API key?"},
          {"role":"assistant","content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris, France\"}"}},
            {"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Bogotá, Colombia\"}"}},
            {"id":"call_3","type":"function","function":{"name":"search_docs","arguments":"{\"query\":\"rotate API key\",\"limit\":3}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"18°C, cloudy"},
          {"role":"tool","tool_call_id":"call_2","content":"22°C, sunny"},
          {"role":"tool","tool_call_id":"call_3","content":"Keys > Rotate: creates a new secret and revokes the old one after 24 hours."},
          {"role":"assistant","content":"Paris is 18°C and cloudy, Bogotá 22°C and sunny. To rotate a key, open Keys and choose Rotate: the old secret keeps working for 24 hours."},
          {"role":"user","content":"Thanks. Please open a ticket: the Rotate button is greyed out for me."}],
         "tools":[{{{Tools}}}],"tool_choice":"auto"}
        """);

    private byte[] _messagesRequest = [];
    private byte[] _anthropicResponse = [];
    private byte[] _chatResponse = [];
    private readonly byte[] _anthropicTextDelta = """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" rotate"}}"""u8.ToArray();
    private readonly byte[] _chatTextChunk = """{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" rotate"},"logprobs":null,"finish_reason":null}],"usage":null}"""u8.ToArray();
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private StreamTranslator _toChat = null!;
    private StreamTranslator _toMessages = null!;
    private TranslationOptions _toAnthropic;
    private TranslationOptions _toOpenAi;

    [GlobalSetup]
    public void Setup()
    {
        _toAnthropic = new TranslationOptions("claude-sonnet-4-20250514", 4096);
        _toOpenAi = new TranslationOptions("gpt-4.1");

        // The Messages request is the Chat one translated: the same conversation in the other API.
        if (Translator.ChatToMessages.TranslateRequest(ChatRequest, _toAnthropic, out var messages) is { } error)
        {
            throw new InvalidOperationException(error.Message);
        }

        using (messages)
        {
            _messagesRequest = messages!.Span.ToArray();
        }

        _anthropicResponse = """
            {"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","stop_reason":"tool_use","stop_sequence":null,
             "content":[{"type":"text","text":"I'll open a ticket for the greyed-out Rotate button."},
                        {"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"create_ticket","input":{"title":"Rotate button greyed out","body":"The user cannot rotate their API key: the Rotate button is disabled.","priority":"normal"}}],
             "usage":{"input_tokens":1021,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":96}}
            """u8.ToArray();
        _chatResponse = Translator.ChatToMessages.TranslateResponse(_anthropicResponse, "support-agent");

        _toChat = Translator.ChatToMessages.CreateStream(true, "support-agent");
        _toChat.OnEvent("""{"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"usage":{"input_tokens":472,"output_tokens":2}}}"""u8, _output);
        _toChat.OnEvent("""{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""u8, _output);
        _toMessages = Translator.MessagesToChat.CreateStream(false, "support-agent");
        _toMessages.OnEvent(_chatTextChunk, _output); // message_start and the text block: each later token is one delta

        // Each piece must do its job here, or its timing means nothing.
        _output.ResetWrittenCount();
        _toChat.OnEvent(_anthropicTextDelta, _output);
        if (!Encoding.UTF8.GetString(_output.WrittenSpan).Contains("\"content\":\" rotate\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The Anthropic text delta was not translated.");
        }

        _output.ResetWrittenCount();
        _toMessages.OnEvent(_chatTextChunk, _output);
        if (!Encoding.UTF8.GetString(_output.WrittenSpan).StartsWith("event: content_block_delta\n", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The Chat text chunk was not translated.");
        }

        if (Translator.MessagesToChat.TranslateRequest(_messagesRequest, _toOpenAi, out var chat) is { } back)
        {
            throw new InvalidOperationException(back.Message);
        }

        chat!.Dispose();
    }

    /// <summary>A 8-message Chat request with 3 tools and parallel tool calls → the Anthropic Messages request.</summary>
    [Benchmark]
    public int ChatRequestToMessages()
    {
        Translator.ChatToMessages.TranslateRequest(ChatRequest, _toAnthropic, out var body);
        using (body)
        {
            return body!.Length;
        }
    }

    /// <summary>The same conversation as an Anthropic Messages request → the Chat request.</summary>
    [Benchmark]
    public int MessagesRequestToChat()
    {
        Translator.MessagesToChat.TranslateRequest(_messagesRequest, _toOpenAi, out var body);
        using (body)
        {
            return body!.Length;
        }
    }

    /// <summary>An Anthropic answer (text and a tool call, cache usage) → the Chat completion.</summary>
    [Benchmark]
    public byte[] AnthropicResponseToChat() => Translator.ChatToMessages.TranslateResponse(_anthropicResponse, "support-agent");

    /// <summary>A Chat completion → the Anthropic message.</summary>
    [Benchmark]
    public byte[] ChatResponseToMessages() => Translator.MessagesToChat.TranslateResponse(_chatResponse, "support-agent");

    /// <summary>One streamed token: an Anthropic <c>text_delta</c> event → one Chat chunk.</summary>
    [Benchmark]
    public int AnthropicTextDeltaToChatChunk()
    {
        _output.ResetWrittenCount();
        _toChat.OnEvent(_anthropicTextDelta, _output);
        return _output.WrittenCount;
    }

    /// <summary>One streamed token: a Chat content chunk → one Anthropic <c>content_block_delta</c> event.</summary>
    [Benchmark]
    public int ChatTextChunkToMessagesEvent()
    {
        _output.ResetWrittenCount();
        _toMessages.OnEvent(_chatTextChunk, _output);
        return _output.WrittenCount;
    }
}

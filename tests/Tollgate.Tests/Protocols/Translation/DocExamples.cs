namespace Tollgate.Tests.Protocols.Translation;

/// <summary>
/// Bodies and stream events as the providers document them (OpenAI API reference and guides; Anthropic Messages API
/// reference, tool use, vision, prompt caching and streaming pages), each named after the page it comes from.
/// Streams are the <c>data:</c> payloads in order.
/// </summary>
internal static class DocExamples
{
    // OpenAI API reference, "Create chat completion", Functions example request.
    public const string ChatFunctionsRequest = """
        {
          "model": "gpt-4.1",
          "messages": [{"role": "user", "content": "What is the weather like in Boston today?"}],
          "tools": [
            {
              "type": "function",
              "function": {
                "name": "get_current_weather",
                "description": "Get the current weather in a given location",
                "parameters": {
                  "type": "object",
                  "properties": {
                    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
                  },
                  "required": ["location"]
                }
              }
            }
          ],
          "tool_choice": "auto"
        }
        """;

    // OpenAI API reference, "Create chat completion", Image input example request.
    public const string ChatVisionRequest = """
        {
          "model": "gpt-4.1",
          "messages": [
            {
              "role": "user",
              "content": [
                {"type": "text", "text": "What's in this image?"},
                {"type": "image_url", "image_url": {"url": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"}},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD", "detail": "low"}}
              ]
            }
          ],
          "max_tokens": 300
        }
        """;

    // OpenAI function calling guide: a two-turn conversation with parallel tool calls and their results.
    public const string ChatParallelToolConversation = """
        {
          "model": "gpt-4.1",
          "messages": [
            {"role": "developer", "content": "You are a helpful weather assistant."},
            {"role": "user", "content": "What's the weather like in Paris and Bogotá?"},
            {
              "role": "assistant",
              "content": null,
              "tool_calls": [
                {"id": "call_12345xyz", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris, France\"}"}},
                {"id": "call_67890abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Bogotá, Colombia\"}"}}
              ]
            },
            {"role": "tool", "tool_call_id": "call_12345xyz", "content": "18°C, cloudy"},
            {"role": "tool", "tool_call_id": "call_67890abc", "content": "22°C, sunny"},
            {"role": "user", "content": "Which one is warmer?"}
          ],
          "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Get current temperature for a given location.",
              "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "City and country e.g. Bogotá, Colombia"}}, "required": ["location"], "additionalProperties": false},
              "strict": true}}
          ]
        }
        """;

    // OpenAI API reference, the chat completion object (Default example).
    public const string ChatCompletion = """
        {
          "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
          "object": "chat.completion",
          "created": 1741569952,
          "model": "gpt-4.1-2025-04-14",
          "choices": [
            {
              "index": 0,
              "message": {"role": "assistant", "content": "Hello! How can I assist you today?", "refusal": null, "annotations": []},
              "logprobs": null,
              "finish_reason": "stop"
            }
          ],
          "usage": {
            "prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
          },
          "service_tier": "default"
        }
        """;

    // OpenAI API reference, Functions example response; usage with cached tokens as in the prompt caching guide.
    public const string ChatToolCallsCompletion = """
        {
          "id": "chatcmpl-abc123",
          "object": "chat.completion",
          "created": 1699896916,
          "model": "gpt-4o-mini",
          "choices": [
            {
              "index": 0,
              "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [
                  {"id": "call_abc123", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\n\"location\": \"Boston, MA\"\n}"}}
                ]
              },
              "logprobs": null,
              "finish_reason": "tool_calls"
            }
          ],
          "usage": {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306, "prompt_tokens_details": {"cached_tokens": 1920}, "completion_tokens_details": {"reasoning_tokens": 0}}
        }
        """;

    // OpenAI API reference, "Create chat completion", Streaming example; the usage chunk as include_usage documents it.
    public static readonly string[] ChatTextStream =
    [
        """{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"!\n\"quoted\" ☀"},"logprobs":null,"finish_reason":null}],"usage":null}""",
        """{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}""",
        """{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":12,"total_tokens":2018,"prompt_tokens_details":{"cached_tokens":1920}}}""",
        "[DONE]",
    ];

    // OpenAI function calling guide, "Streaming": tool call deltas (id and name first, then argument fragments).
    public static readonly string[] ChatToolCallStream =
    [
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"type":null,"function":{"name":null,"arguments":"{\""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"location"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\":\""}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"Paris"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":", France\"}"}}]},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}""",
        """{"id":"chatcmpl-456","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4.1","choices":[],"usage":{"prompt_tokens":81,"completion_tokens":15,"total_tokens":96,"prompt_tokens_details":{"cached_tokens":0}}}""",
        "[DONE]",
    ];

    // Anthropic Messages API reference, example response.
    public const string AnthropicMessage = """
        {
          "content": [{"text": "Hi! My name is Claude.", "type": "text"}],
          "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
          "model": "claude-sonnet-4-20250514",
          "role": "assistant",
          "stop_reason": "end_turn",
          "stop_sequence": null,
          "type": "message",
          "usage": {"input_tokens": 2095, "output_tokens": 503}
        }
        """;

    // Anthropic tool use guide: the response with a tool_use block; usage as the prompt caching page shows it.
    public const string AnthropicToolUseMessage = """
        {
          "id": "msg_01Aq9w938a90dw8q",
          "type": "message",
          "model": "claude-opus-4-1-20250805",
          "stop_reason": "tool_use",
          "role": "assistant",
          "content": [
            {"type": "thinking", "thinking": "The user wants the weather.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
            {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}}
          ],
          "usage": {"input_tokens": 21, "cache_creation_input_tokens": 188086, "cache_read_input_tokens": 1000, "output_tokens": 393}
        }
        """;

    // Anthropic Messages API reference and tool use guide: a request with system, tools and a tool round trip.
    public const string AnthropicToolConversation = """
        {
          "model": "claude-opus-4-1-20250805",
          "max_tokens": 1024,
          "system": [
            {"type": "text", "text": "You are a weather assistant."},
            {"type": "text", "text": "Answer briefly.", "cache_control": {"type": "ephemeral"}}
          ],
          "tools": [
            {
              "name": "get_weather",
              "description": "Get the current weather in a given location",
              "input_schema": {
                "type": "object",
                "properties": {
                  "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The unit of temperature, either 'celsius' or 'fahrenheit'"}
                },
                "required": ["location"]
              },
              "cache_control": {"type": "ephemeral"}
            }
          ],
          "messages": [
            {"role": "user", "content": "What's the weather like in San Francisco and New York?"},
            {
              "role": "assistant",
              "content": [
                {"type": "thinking", "thinking": "Two cities: two calls.", "signature": "EqQBCgIYAhIM"},
                {"type": "text", "text": "I'll check both cities."},
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}},
                {"type": "tool_use", "id": "toolu_02B19r91rx91mr928946mr0", "name": "get_weather", "input": {"location": "New York, NY"}}
              ]
            },
            {
              "role": "user",
              "content": [
                {"type": "text", "text": "Also, which is warmer?"},
                {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"},
                {"type": "tool_result", "tool_use_id": "toolu_02B19r91rx91mr928946mr0", "content": [{"type": "text", "text": "18 degrees"}]}
              ]
            }
          ],
          "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
          "stop_sequences": ["\n\nHuman:"],
          "temperature": 0.5,
          "top_p": 0.9,
          "metadata": {"user_id": "13803d75-b4b5-4c3e-b2a2-6f21399b021b"}
        }
        """;

    // Anthropic vision guide: a base64 image and a URL image in one user turn.
    public const string AnthropicVisionRequest = """
        {
          "model": "claude-sonnet-4-20250514",
          "max_tokens": 1024,
          "messages": [
            {
              "role": "user",
              "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg"}},
                {"type": "image", "source": {"type": "url", "url": "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"}},
                {"type": "text", "text": "Describe these images."}
              ]
            }
          ]
        }
        """;

    // Anthropic streaming page, "Basic streaming request".
    public static readonly string[] AnthropicTextStream =
    [
        """{"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-1-20250805", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}""",
        """{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}""",
        """{"type": "ping"}""",
        """{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}""",
        """{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!\n\"quoted\" ☀"}}""",
        """{"type": "content_block_stop", "index": 0}""",
        """{"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}""",
        """{"type": "message_stop"}""",
    ];

    // Anthropic streaming page, "Streaming request with tool use".
    public static readonly string[] AnthropicToolUseStream =
    [
        """{"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-opus-4-1-20250805","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}""",
        """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
        """{"type": "ping"}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":","}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" let"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"'s check the weather for San Francisco, CA:"}}""",
        """{"type":"content_block_stop","index":0}""",
        """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San"}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" Francisc"}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"o,"}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" CA\""}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", "}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"unit\": \"fah"}}""",
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"renheit\"}"}}""",
        """{"type":"content_block_stop","index":1}""",
        """{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}""",
        """{"type":"message_stop"}""",
    ];

    // Anthropic streaming page, "Error events".
    public const string AnthropicStreamError = """{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}""";

    // Anthropic errors page.
    public const string AnthropicNotFound = """{"type":"error","error":{"type":"not_found_error","message":"The requested resource could not be found."},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}""";

    // OpenAI error codes guide: 401 and 429 bodies.
    public const string OpenAiInvalidKey = """{"error": {"message": "Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}""";

    public const string OpenAiRateLimit = """{"error": {"message": "Rate limit reached for gpt-4o in organization org-123 on tokens per min (TPM): Limit 30000, Used 30000, Requested 100.", "type": "tokens", "param": null, "code": "rate_limit_exceeded"}}""";
}

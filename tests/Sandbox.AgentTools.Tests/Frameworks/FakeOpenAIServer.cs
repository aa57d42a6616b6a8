using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sandbox.Tests.Common;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// A loopback OpenAI-compatible endpoint (Kestrel on 127.0.0.1:0) speaking chat completions (plain and streamed as
/// server-sent events) and the Responses API (<c>/v1/responses</c>): answers each request with the next scripted reply
/// (tool calls or text) and records every request body.
/// </summary>
internal sealed class FakeOpenAIServer : IAsyncDisposable
{
    private KestrelTestHost _host = null!;
    private readonly ConcurrentQueue<ScriptedReply> _script = new();
    private readonly List<JsonObject> _requests = [];
    private readonly Lock _lock = new();
    private int _counter;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Every request body received, in order.</summary>
    public IReadOnlyList<JsonObject> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeOpenAIServer> StartAsync()
    {
        var server = new FakeOpenAIServer();
        server._host = await KestrelTestHost.StartAsync(app =>
        {
            app.MapPost("/v1/chat/completions", server.HandleAsync);
            app.MapPost("/chat/completions", server.HandleAsync);
            app.MapPost("/v1/responses", server.HandleResponsesAsync);
            app.MapPost("/responses", server.HandleResponsesAsync);
        });
        server.BaseUri = new Uri(server._host.Url + "/v1/");
        return server;
    }

    /// <summary>The next request gets these tool calls.</summary>
    public void ReplyWithToolCalls(params (string Id, string Name, object Arguments)[] calls) =>
        _script.Enqueue(new ScriptedReply(null, calls.Select(c => (c.Id, c.Name, JsonSerializer.Serialize(c.Arguments))).ToArray()));

    /// <summary>The next request gets this text.</summary>
    public void ReplyWithText(string text) => _script.Enqueue(new ScriptedReply(text, []));

    public int Pending => _script.Count;

    private async Task<(JsonObject Request, ScriptedReply Reply, int N)> NextAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        string body = await reader.ReadToEndAsync();
        var request = (JsonObject)JsonNode.Parse(body)!;
        lock (_lock)
        {
            _requests.Add(request);
        }

        if (!_script.TryDequeue(out ScriptedReply? reply))
        {
            reply = new ScriptedReply("(the script has no more replies)", []);
        }

        return (request, reply, Interlocked.Increment(ref _counter));
    }

    private async Task HandleAsync(HttpContext http)
    {
        (JsonObject request, ScriptedReply reply, int n) = await NextAsync(http);
        if (request["stream"]?.GetValue<bool>() == true)
        {
            await StreamChatAsync(http, request, reply, n);
            return;
        }

        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Text };
        if (reply.Calls.Length > 0)
        {
            message["tool_calls"] = new JsonArray([.. reply.Calls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            })]);
        }

        var response = new JsonObject
        {
            ["id"] = $"chatcmpl-{n}",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000 + n,
            ["model"] = request["model"]?.GetValue<string>() ?? "fake-model",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["finish_reason"] = reply.Calls.Length > 0 ? "tool_calls" : "stop",
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15 },
        };
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(response.ToJsonString());
    }

    /// <summary>The same reply as chat.completion.chunk server-sent events: the text, then each tool call, then the finish reason.</summary>
    private static async Task StreamChatAsync(HttpContext http, JsonObject request, ScriptedReply reply, int n)
    {
        http.Response.ContentType = "text/event-stream";
        string model = request["model"]?.GetValue<string>() ?? "fake-model";
        JsonObject Chunk(JsonObject delta, string? finish) => new()
        {
            ["id"] = $"chatcmpl-{n}",
            ["object"] = "chat.completion.chunk",
            ["created"] = 1_700_000_000 + n,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        };

        var chunks = new List<JsonObject> { Chunk(new JsonObject { ["role"] = "assistant", ["content"] = reply.Text ?? "" }, null) };
        for (int i = 0; i < reply.Calls.Length; i++)
        {
            (string id, string name, string arguments) = reply.Calls[i];
            chunks.Add(Chunk(new JsonObject
            {
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["index"] = i,
                    ["id"] = id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
                }),
            }, null));
        }

        chunks.Add(Chunk(new JsonObject(), reply.Calls.Length > 0 ? "tool_calls" : "stop"));
        foreach (JsonObject chunk in chunks)
        {
            await http.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n");
        }

        await http.Response.WriteAsync("data: [DONE]\n\n");
    }

    /// <summary>The Responses API (non-streaming): function_call output items, or one assistant message.</summary>
    private async Task HandleResponsesAsync(HttpContext http)
    {
        (JsonObject request, ScriptedReply reply, int n) = await NextAsync(http);
        var output = new JsonArray();
        for (int i = 0; i < reply.Calls.Length; i++)
        {
            (string id, string name, string arguments) = reply.Calls[i];
            output.Add(new JsonObject
            {
                ["type"] = "function_call",
                ["id"] = $"fc_{n}_{i}",
                ["call_id"] = id,
                ["name"] = name,
                ["arguments"] = arguments,
                ["status"] = "completed",
            });
        }

        if (reply.Text is not null)
        {
            output.Add(new JsonObject
            {
                ["type"] = "message",
                ["id"] = $"msg_{n}",
                ["status"] = "completed",
                ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = reply.Text, ["annotations"] = new JsonArray() }),
            });
        }

        var response = new JsonObject
        {
            ["id"] = $"resp_{n}",
            ["object"] = "response",
            ["created_at"] = 1_700_000_000 + n,
            ["status"] = "completed",
            ["model"] = request["model"]?.GetValue<string>() ?? "fake-model",
            ["output"] = output,
            ["parallel_tool_calls"] = true,
            ["tool_choice"] = "auto",
            ["tools"] = new JsonArray(),
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = 10,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                ["output_tokens"] = 5,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                ["total_tokens"] = 15,
            },
        };
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(response.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
    }

    private sealed record ScriptedReply(string? Text, (string Id, string Name, string Arguments)[] Calls);
}

/// <summary>Reads what the fake server recorded.</summary>
internal static class RecordedRequests
{
    /// <summary>The content of the tool message answering <paramref name="callId"/> in a request.</summary>
    public static string? ToolMessage(JsonObject request, string callId) =>
        request["messages"]!.AsArray().OfType<JsonObject>()
            .Where(m => m["role"]?.GetValue<string>() == "tool" && m["tool_call_id"]?.GetValue<string>() == callId)
            .Select(m => ContentText(m["content"]))
            .FirstOrDefault();

    /// <summary>The first request that carries the answer to <paramref name="callId"/>.</summary>
    public static JsonObject AnsweringRequest(IEnumerable<JsonObject> requests, string callId) =>
        requests.First(r => ToolMessage(r, callId) is not null);

    /// <summary>The tool message of <paramref name="callId"/> parsed as the JSON record.</summary>
    public static JsonElement ToolRecord(IEnumerable<JsonObject> requests, string callId)
    {
        string text = ToolMessage(AnsweringRequest(requests, callId), callId)!;
        int end = text.LastIndexOf('}');
        return JsonDocument.Parse(text[..(end + 1)]).RootElement.Clone();
    }

    /// <summary>The user messages after the tool message of <paramref name="callId"/> whose content has image parts.</summary>
    public static IReadOnlyList<JsonObject> ImagePartsAfter(JsonObject request, string callId)
    {
        JsonArray messages = request["messages"]!.AsArray();
        int index = messages.Select((m, i) => (m, i)).First(x => x.m!["role"]?.GetValue<string>() == "tool" && x.m["tool_call_id"]?.GetValue<string>() == callId).i;
        return messages.Skip(index + 1)
            .OfType<JsonObject>()
            .Where(m => m["role"]?.GetValue<string>() == "user" && m["content"] is JsonArray)
            .SelectMany(m => m["content"]!.AsArray().OfType<JsonObject>())
            .Where(p => p["type"]?.GetValue<string>() == "image_url")
            .ToList();
    }

    /// <summary>Responses API: the function_call_output item answering <paramref name="callId"/> in a request's input, if any.</summary>
    public static JsonObject? FunctionCallOutput(JsonObject request, string callId) =>
        request["input"] is JsonArray input
            ? input.OfType<JsonObject>().FirstOrDefault(i => i["type"]?.GetValue<string>() == "function_call_output" && i["call_id"]?.GetValue<string>() == callId)
            : null;

    /// <summary>Responses API: the input items after the function_call_output of <paramref name="callId"/>.</summary>
    public static IReadOnlyList<JsonObject> InputAfter(JsonObject request, string callId)
    {
        List<JsonObject> items = [.. request["input"]!.AsArray().OfType<JsonObject>()];
        int index = items.FindIndex(i => i["type"]?.GetValue<string>() == "function_call_output" && i["call_id"]?.GetValue<string>() == callId);
        return items.Skip(index + 1).ToList();
    }

    public static string ContentText(JsonNode? content) => content switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.OfType<JsonObject>().Select(p => p["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };

    /// <summary>A short copy of a request for the notes: long strings (base64 images) cut to 120 characters.</summary>
    public static string Excerpt(JsonNode node)
    {
        JsonNode copy = node.DeepClone();
        Shorten(copy);
        return copy.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

        static void Shorten(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach ((string key, JsonNode? child) in o.ToList())
                    {
                        if (child is JsonValue v && v.TryGetValue(out string? s) && s.Length > 120)
                        {
                            o[key] = s[..120] + $"...({s.Length} chars)";
                        }
                        else
                        {
                            Shorten(child);
                        }
                    }

                    break;
                case JsonArray a:
                    foreach (JsonNode? child in a)
                    {
                        Shorten(child);
                    }

                    break;
            }
        }
    }
}

using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sandbox.Tests.Common;

namespace Samples.Tests;

/// <summary>An OpenAI-compatible chat completions endpoint on loopback that answers from a script and records every request.</summary>
internal sealed class FakeOpenAIServer : IAsyncDisposable
{
    private readonly List<JsonElement> _requests = [];
    private KestrelTestHost _host = null!;

    private void Map(WebApplication app, Func<JsonElement, int, object> respond)
    {
        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            using JsonDocument doc = await JsonDocument.ParseAsync(context.Request.Body);
            int number;
            lock (_requests)
            {
                _requests.Add(doc.RootElement.Clone());
                number = _requests.Count;
            }

            return Results.Json(respond(doc.RootElement, number));
        });
    }

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<JsonElement> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <param name="respond">Gets the request body and its 1-based number; returns the chat.completion object.</param>
    public static async Task<FakeOpenAIServer> StartAsync(Func<JsonElement, int, object> respond)
    {
        var server = new FakeOpenAIServer();
        server._host = await KestrelTestHost.StartAsync(app => server.Map(app, respond));
        server.BaseUrl = new Uri(server._host.Url + "/v1");
        return server;
    }

    public static object Completion(object message, string finishReason) => new
    {
        id = "chatcmpl-test",
        @object = "chat.completion",
        created = 1_700_000_000,
        model = "fake-model",
        choices = new[] { new { index = 0, message, finish_reason = finishReason } },
        usage = new { prompt_tokens = 10, completion_tokens = 5, total_tokens = 15 },
    };

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Client.Tests.Verification;

/// <summary>Serves a JWKS from memory and counts requests; optionally holds responses until <see cref="Release"/>.</summary>
internal sealed class FakeJwksHandler : HttpMessageHandler
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;

    public FakeJwksHandler(bool holdResponses = false)
    {
        if (!holdResponses)
        {
            _gate.SetResult();
        }
    }

    public List<JsonObject> Keys { get; } = [];

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public string? RawBody { get; set; }

    public int Requests => Volatile.Read(ref _requests);

    public List<Uri> RequestedUrls { get; } = [];

    public void Release() => _gate.TrySetResult();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        lock (RequestedUrls)
        {
            RequestedUrls.Add(request.RequestUri!);
        }

        await _gate.Task.WaitAsync(cancellationToken);
        var body = RawBody ?? new JsonObject { ["keys"] = new JsonArray([.. Keys.Select(k => k.DeepClone())]) }.ToJsonString();
        return new HttpResponseMessage(Status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }
}

using System.Diagnostics;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Diagnostics;

/// <summary>Delta §9: a sandbox operation inside a traced operation records the sandbox id on it.</summary>
public sealed class SandboxTracingTests : IAsyncLifetime
{
    private const string SandboxIdAttribute = "langsmith.metadata.sandbox_id";
    private const string SourceName = "Sandbox.Client.Tests.Tracing";
    private static readonly ActivitySource Source = new(SourceName);
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name == SourceName,
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private FakeSandboxServer _server = null!;

    public SandboxTracingTests() => ActivitySource.AddActivityListener(_listener);

    public async ValueTask InitializeAsync() => _server = await FakeSandboxServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public void SandboxObject_BuiltInsideAnActivity_TagsItWithTheSandboxId()
    {
        using var client = _server.CreateClient();
        using var traced = Source.StartActivity("agent step");
        Assert.NotNull(traced);
        Assert.Null(traced.GetTagItem(SandboxIdAttribute));

        _server.Instance(client);

        Assert.Equal(_server.Box().Id, traced.GetTagItem(SandboxIdAttribute));
    }

    [Fact]
    public async Task DataPlaneCall_InsideAnActivity_TagsItWithTheSandboxId()
    {
        _server.On("POST", "/dp/sb-1/upload", (c, _) => FakeSandboxServer.Respond(c, 200, new { path = "/a", written = 1 }));
        using var client = _server.CreateClient();
        var box = _server.Instance(client);

        using var toolCall = Source.StartActivity("tool call");
        Assert.NotNull(toolCall);
        Assert.Null(toolCall.GetTagItem(SandboxIdAttribute));

        await box.WriteFileAsync("/a", "x"u8.ToArray());

        Assert.Equal(_server.Box().Id, toolCall.GetTagItem(SandboxIdAttribute));
    }
}

using System.Collections.Concurrent;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.AgentTools.Tests;

/// <summary>An in-memory sandbox service for pool tests, with hooks to delay creation or fail health checks.</summary>
internal sealed class FakeProvisioner : ISandboxProvisioner, IDisposable
{
    private readonly SandboxClient _client = new(new SandboxClientOptions { Endpoint = new Uri("http://127.0.0.1:9/v2/sandboxes"), ApiKey = "test" });
    private int _counter;

    public ConcurrentDictionary<string, SandboxInstance> Live { get; } = new();

    public ConcurrentBag<string> Deleted { get; } = [];

    public int Created => Volatile.Read(ref _counter);

    /// <summary>Awaited before each create returns (e.g. a gate the test opens).</summary>
    public Func<CancellationToken, Task>? BeforeCreate { get; set; }

    public Func<SandboxInstance, bool> Healthy { get; set; } = _ => true;

    public int HealthChecks;

    public async Task<SandboxInstance> CreateAsync(CancellationToken cancellationToken)
    {
        if (BeforeCreate is { } hook)
        {
            await hook(cancellationToken);
        }

        int n = Interlocked.Increment(ref _counter);
        SandboxInstance box = _client.GetSandbox(new SandboxInfo { Name = $"fake-{n}", Status = SandboxStatus.Ready });
        Live[box.Name] = box;
        return box;
    }

    public Task<bool> IsHealthyAsync(SandboxInstance box, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref HealthChecks);
        return Task.FromResult(Live.ContainsKey(box.Name) && Healthy(box));
    }

    public Task DeleteAsync(SandboxInstance box, CancellationToken cancellationToken)
    {
        Live.TryRemove(box.Name, out _);
        Deleted.Add(box.Name);
        return Task.CompletedTask;
    }

    public void Dispose() => _client.Dispose();
}

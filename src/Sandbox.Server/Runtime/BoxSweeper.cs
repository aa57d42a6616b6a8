using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;

namespace Sandbox.Server.Runtime;

/// <summary>Periodically stops idle boxes and deletes expired stopped boxes; stops every box when the host shuts down.</summary>
internal sealed class BoxSweeper : BackgroundService
{
    private readonly BoxManager _boxes;
    private readonly SandboxServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public BoxSweeper(BoxManager boxes, SandboxServerOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        _logger = loggers.CreateLogger("Sandbox.Server");
        _boxes = boxes;
        _options = options;
        _time = time;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SweepInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops boxes idle longer than their idle TTL and deletes boxes stopped longer than delete_after_stop.</summary>
    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var box in _boxes.List())
        {
            try
            {
                var record = box.Record;
                if (box.Running is { } running && record.Status == SandboxStatus.Ready && record.IdleTtlSeconds > 0
                    && running.Commands.Running.Count == 0
                    && now - box.LastActivity >= TimeSpan.FromSeconds(record.IdleTtlSeconds))
                {
                    await _boxes.StopAsync(box, $"Stopped after {record.IdleTtlSeconds}s without activity (idle_ttl_seconds).", cancellationToken).ConfigureAwait(false);
                }
                else if (record.Status == SandboxStatus.Stopped && record.DeleteAfterStopSeconds > 0 && record.StoppedAt is { } stoppedAt
                    && now - stoppedAt >= TimeSpan.FromSeconds(record.DeleteAfterStopSeconds))
                {
                    await _boxes.DeleteAsync(box, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or DomainException or InvalidOperationException)
            {
                Log.SweepFailed(_logger, box.Id, e);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await _boxes.DisposeAsync().ConfigureAwait(false);
    }
}

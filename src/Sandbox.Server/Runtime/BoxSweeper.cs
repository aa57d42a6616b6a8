
namespace Sandbox.Server.Runtime;

/// <summary>Periodically stops idle boxes and deletes expired stopped boxes; stops every box when the host shuts down.</summary>
internal sealed class BoxSweeper : BackgroundService
{
    private readonly BoxManager _boxes;
    private readonly SandboxServerOptions _options;
    private readonly TimeProvider _time;

    public BoxSweeper(BoxManager boxes, SandboxServerOptions options, TimeProvider time)
    {
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
                await _boxes.SweepAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await _boxes.DisposeAsync().ConfigureAwait(false);
    }
}

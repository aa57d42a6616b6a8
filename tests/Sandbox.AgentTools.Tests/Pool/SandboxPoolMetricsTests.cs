using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sandbox.AgentTools.Tests;

public sealed class SandboxPoolMetricsTests
{
    [Fact]
    public async Task Pool_ReportsBoxesByState_WaitTime_AndCreateDuration()
    {
        using var provisioner = new FakeProvisioner();
        string poolName = "metrics-" + Guid.NewGuid().ToString("N")[..6];
        await using var pool = new SandboxLeasePool(provisioner, new SandboxPoolOptions { MinIdle = 0, SnapshotName = poolName }, TimeProvider.System, NullLogger.Instance);
        var states = new Dictionary<string, int>();
        var histograms = new HashSet<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Sandbox.AgentTools")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            Dictionary<string, object?> t = tags.ToArray().ToDictionary(x => x.Key, x => x.Value);
            if (instrument.Name == "sandbox.pool.boxes" && (string?)t["sandbox.pool.name"] == poolName)
            {
                states[(string)t["state"]!] = value;
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            if (tags.ToArray().Any(x => x.Key == "sandbox.pool.name" && (string?)x.Value == poolName))
            {
                histograms.Add(instrument.Name);
            }
        });
        listener.Start();

        SandboxLease busy = await pool.RentAsync("a");
        await using (await pool.RentAsync("b"))
        {
        }

        listener.RecordObservableInstruments();
        Assert.Equal(1, states["busy"]);
        Assert.Equal(1, states["assigned"]);
        Assert.Equal(0, states["idle"]);
        Assert.Contains("sandbox.pool.lease.wait_time", histograms);
        Assert.Contains("sandbox.pool.create.duration", histograms);
        await busy.DisposeAsync();
    }
}

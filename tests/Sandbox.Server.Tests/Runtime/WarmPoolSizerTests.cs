using Microsoft.Extensions.Time.Testing;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Runtime;

/// <summary>The warm pool's size follows recent create demand within [WarmBoxes, WarmBoxesMax] and shrinks back slowly.</summary>
public sealed class WarmPoolSizerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private WarmPoolSizer Sizer(int min = 2, int max = 24, int windowSeconds = 60, int shrinkSeconds = 10) =>
        new(new SandboxServerOptions
        {
            WarmBoxes = min,
            WarmBoxesMax = max,
            WarmBoxesDemandWindow = TimeSpan.FromSeconds(windowSeconds),
            WarmBoxesShrinkInterval = TimeSpan.FromSeconds(shrinkSeconds),
        }, _time);

    [Fact]
    public void WithoutDemand_TheTargetIsTheFloor()
    {
        Assert.Equal(2, Sizer().Target());
        Assert.Equal(5, Sizer(min: 5).Target());
    }

    [Fact]
    public void ABurst_RaisesTheTargetToItsSize_AtOnce()
    {
        var sizer = Sizer();
        for (int i = 0; i < 20; i++)
        {
            sizer.RecordDemand();
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal(20, sizer.Target());
    }

    [Fact]
    public void TheTarget_NeverExceedsTheMaximum_NorFallsBelowTheFloor()
    {
        var sizer = Sizer(min: 3, max: 8);
        sizer.RecordDemand();
        Assert.Equal(3, sizer.Target());
        for (int i = 0; i < 50; i++)
        {
            sizer.RecordDemand();
        }

        Assert.Equal(8, sizer.Target());
    }

    [Fact]
    public void AMaximumBelowTheFloor_MeansAFixedPool_AndZeroTurnsThePoolOff()
    {
        var fixedPool = Sizer(min: 4, max: 1);
        for (int i = 0; i < 10; i++)
        {
            fixedPool.RecordDemand();
        }

        Assert.Equal(4, fixedPool.Target());

        var off = Sizer(min: 0, max: 24);
        for (int i = 0; i < 10; i++)
        {
            off.RecordDemand();
        }

        Assert.Equal(0, off.Target());
    }

    [Fact]
    public void ASlowStart_AddsWhatAStreamTakesWhileAReplacementStarts()
    {
        // 30 creates in a 10 s window (3/s) while a warm box takes 2 s to start: 30 × (1 + 2/10) = 36 wanted.
        var sizer = Sizer(max: 100, windowSeconds: 10);
        sizer.RecordStart(TimeSpan.FromSeconds(2));
        for (int i = 0; i < 30; i++)
        {
            sizer.RecordDemand();
            _time.Advance(TimeSpan.FromMilliseconds(300));
        }

        Assert.Equal(TimeSpan.FromSeconds(2), sizer.ObservedStartTime);
        Assert.Equal(36, sizer.Target());
    }

    [Fact]
    public void StartTimes_AreSmoothed()
    {
        var sizer = Sizer();
        sizer.RecordStart(TimeSpan.FromMilliseconds(40));
        sizer.RecordStart(TimeSpan.FromMilliseconds(1240));
        Assert.Equal(340, sizer.ObservedStartTime.TotalMilliseconds, 3);
    }

    [Fact]
    public void DemandOlderThanTheWindow_NoLongerCounts()
    {
        var sizer = Sizer(windowSeconds: 60);
        for (int i = 0; i < 10; i++)
        {
            sizer.RecordDemand();
        }

        _time.Advance(TimeSpan.FromSeconds(30));
        for (int i = 0; i < 4; i++)
        {
            sizer.RecordDemand();
        }

        Assert.Equal(14, sizer.Target());
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(4, sizer.Target());
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, sizer.Target());
    }

    [Fact]
    public void Shrinking_WaitsForTheWindow_ThenGivesUpOneSparePerInterval()
    {
        var sizer = Sizer(windowSeconds: 60, shrinkSeconds: 10);
        for (int i = 0; i < 6; i++)
        {
            sizer.RecordDemand();
        }

        int spares = 6;
        Assert.False(sizer.TryClaimShrink(spares)); // the demand is recent: keep them all

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(sizer.TryClaimShrink(spares));

        _time.Advance(TimeSpan.FromSeconds(1)); // window over: target back to 2
        Assert.True(sizer.TryClaimShrink(spares));
        spares--;
        Assert.False(sizer.TryClaimShrink(spares)); // one per interval

        var shrinks = new List<TimeSpan>();
        var start = _time.GetUtcNow();
        while (spares > 2)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            if (sizer.TryClaimShrink(spares))
            {
                spares--;
                shrinks.Add(_time.GetUtcNow() - start);
            }
        }

        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30)], shrinks);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(sizer.TryClaimShrink(spares)); // never below the floor
    }

    [Fact]
    public void NewDemand_StopsAShrink()
    {
        var sizer = Sizer(windowSeconds: 5, shrinkSeconds: 10);
        for (int i = 0; i < 4; i++)
        {
            sizer.RecordDemand();
        }

        _time.Advance(TimeSpan.FromSeconds(20));
        sizer.RecordDemand(); // target: floor 2 (1 create in the window)
        Assert.False(sizer.TryClaimShrink(4));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(sizer.TryClaimShrink(4));
    }
}

namespace Sandbox.Server.Runtime;

/// <summary>
/// How many warm boxes to keep: as many as the creates a warm box could have served in the last
/// <see cref="SandboxServerOptions.WarmBoxesDemandWindow"/>, plus those a steady stream at that rate takes while a
/// replacement starts (Little's law: rate × observed start time), clamped to
/// [<see cref="SandboxServerOptions.WarmBoxes"/>, <see cref="SandboxServerOptions.WarmBoxesMax"/>]. A burst therefore
/// raises the target at once (the next burst of that size is served warm), and the target falls back to the floor one
/// window after the demand stopped; the pool then gives up one spare per
/// <see cref="SandboxServerOptions.WarmBoxesShrinkInterval"/>.
/// </summary>
/// <remarks>Thread-safe. All times come from the <see cref="TimeProvider"/>.</remarks>
internal sealed class WarmPoolSizer
{
    private readonly Lock _gate = new();
    private readonly Queue<DateTimeOffset> _demand = new();
    private readonly int _min;
    private readonly int _max;
    private readonly TimeSpan _window;
    private readonly TimeSpan _shrinkInterval;
    private readonly TimeProvider _time;
    private double _startSeconds = -1;
    private DateTimeOffset _lastChange = DateTimeOffset.MinValue;

    public WarmPoolSizer(SandboxServerOptions options, TimeProvider time)
    {
        _min = Math.Max(0, options.WarmBoxes);
        _max = _min == 0 ? 0 : Math.Max(_min, options.WarmBoxesMax); // WarmBoxes = 0 turns the pool off
        _window = options.WarmBoxesDemandWindow > TimeSpan.Zero ? options.WarmBoxesDemandWindow : TimeSpan.FromSeconds(1);
        _shrinkInterval = options.WarmBoxesShrinkInterval;
        _time = time;
    }

    /// <summary>The floor (<see cref="SandboxServerOptions.WarmBoxes"/>).</summary>
    public int Min => _min;

    /// <summary>Smoothed time a warm box took to start (zero until one has started).</summary>
    public TimeSpan ObservedStartTime
    {
        get
        {
            lock (_gate)
            {
                return _startSeconds < 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(_startSeconds);
            }
        }
    }

    /// <summary>Counts one create call a warm box could serve (whether or not one was there).</summary>
    public void RecordDemand()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            _demand.Enqueue(now);
            Expire(now);
            _lastChange = now;
        }
    }

    /// <summary>Feeds the time one warm box took to start (an exponentially weighted average, weight 1/4 for the new one).</summary>
    public void RecordStart(TimeSpan elapsed)
    {
        lock (_gate)
        {
            _startSeconds = _startSeconds < 0 ? elapsed.TotalSeconds : (0.75 * _startSeconds) + (0.25 * elapsed.TotalSeconds);
        }
    }

    /// <summary>How many warm boxes should exist now (ready or starting).</summary>
    public int Target()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            Expire(now);
            return TargetLocked();
        }
    }

    /// <summary>
    /// True when one of <paramref name="spares"/> ready warm boxes should be given up now: more than the target, and
    /// no demand and no other shrink for a whole shrink interval. Claims the shrink (the next one waits another interval).
    /// </summary>
    public bool TryClaimShrink(int spares)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            Expire(now);
            if (spares <= TargetLocked() || now - _lastChange < _shrinkInterval)
            {
                return false;
            }

            _lastChange = now;
            return true;
        }
    }

    private int TargetLocked()
    {
        int recent = _demand.Count;
        if (recent == 0)
        {
            return _min;
        }

        // Creates in the window, plus what a stream at the window's rate takes while a replacement starts.
        double start = Math.Max(0, _startSeconds);
        double wanted = Math.Ceiling((recent * (1 + (start / _window.TotalSeconds))) - 1e-9);
        return (int)Math.Clamp(wanted, _min, _max);
    }

    private void Expire(DateTimeOffset now)
    {
        while (_demand.TryPeek(out var oldest) && now - oldest >= _window)
        {
            _demand.Dequeue();
        }

        // The queue never holds more than the target can use.
        while (_demand.Count > Math.Max(_max, 1) * 4)
        {
            _demand.Dequeue();
        }
    }
}

namespace Sandbox.Client.Tests.Infrastructure;

/// <summary>A manual clock (Microsoft.Extensions.TimeProvider.Testing is not available here, so this is hand-written).
/// Timers fire on <see cref="Advance"/>; with <see cref="AutoAdvance"/> every timer fires at once, moving the clock to its
/// due time (simulates "every wait burns its whole timeout").</summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 3, 24, 12, 0, 0, TimeSpan.Zero);

    public bool AutoAdvance { get; set; }

    public List<TimeSpan> TimerDueTimes { get; } = [];

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        List<FakeTimer> due;
        lock (_gate)
        {
            _now += by;
            due = _timers.Where(t => t.DueAt is { } at && at <= _now).ToList();
            foreach (var timer in due)
            {
                timer.DueAt = null;
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private void Schedule(FakeTimer timer, TimeSpan dueTime)
    {
        bool fireNow;
        lock (_gate)
        {
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                timer.DueAt = null;
                return;
            }

            if (!_timers.Contains(timer))
            {
                _timers.Add(timer);
            }

            TimerDueTimes.Add(dueTime);
            timer.DueAt = _now + dueTime;
            fireNow = AutoAdvance || dueTime <= TimeSpan.Zero;
        }

        if (fireNow)
        {
            _ = Task.Run(() => Advance(dueTime > TimeSpan.Zero ? dueTime : TimeSpan.Zero));
        }
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? DueAt { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Schedule(this, dueTime);
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._gate)
            {
                DueAt = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

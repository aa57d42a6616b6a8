using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Client.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> on which every timer fires at once, the clock jumping to its due time: simulates
/// "every wait burns its whole timeout". Records each due time a timer is armed with.
/// </summary>
public sealed class TimeoutBurningTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 3, 24, 12, 0, 0, TimeSpan.Zero))
{
    private readonly List<TimeSpan> _dueTimes = [];

    public IReadOnlyList<TimeSpan> TimerDueTimes
    {
        get
        {
            lock (_dueTimes)
            {
                return [.. _dueTimes];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new BurningTimer(this, base.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, period));
        timer.Change(dueTime, period);
        return timer;
    }

    private void Armed(TimeSpan dueTime)
    {
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        lock (_dueTimes)
        {
            _dueTimes.Add(dueTime);
        }

        if (dueTime > TimeSpan.Zero)
        {
            _ = Task.Run(() => Advance(dueTime));
        }
    }

    private sealed class BurningTimer(TimeoutBurningTimeProvider owner, ITimer inner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            owner.Armed(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

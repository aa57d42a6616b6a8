using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Tests.Common;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that moves only the date: <see cref="TimeProvider.GetUtcNow"/> follows
/// <see cref="FakeTimeProvider.Advance"/>, while timers, delays and timestamps run on the real clock. For a whole server
/// whose own timers (sweeps, command deadlines, namespace watchers, drain loops) must keep running while a test moves
/// the date past a token's or a box's expiry.
/// </summary>
public sealed class FakeUtcClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        => System.CreateTimer(callback, state, dueTime, period);

    public override long GetTimestamp() => System.GetTimestamp();

    public override long TimestampFrequency => System.TimestampFrequency;
}

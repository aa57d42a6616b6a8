using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Client;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.AgentTools.Tests;

public sealed class SandboxLeasePoolTests : IDisposable
{
    private readonly FakeProvisioner _provisioner = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _provisioner.Dispose();

    private SandboxLeasePool CreatePool(Action<SandboxPoolOptions>? configure = null)
    {
        var options = new SandboxPoolOptions
        {
            MinIdle = 0,
            MaxBoxes = 4,
            AcquireTimeout = TimeSpan.FromSeconds(30),
            ConversationIdleTimeout = TimeSpan.FromMinutes(10),
            MaxLifetime = TimeSpan.FromHours(1),
            HealthCheckAfterIdle = TimeSpan.FromMinutes(1),
            PruneInterval = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        return new SandboxLeasePool(_provisioner, options, _time, NullLogger.Instance);
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), what);
    }

    [Fact]
    public async Task RentAsync_SameConversationAgain_ReturnsItsBoxSynchronously()
    {
        await using SandboxLeasePool pool = CreatePool();
        string first;
        await using (SandboxLease lease = await pool.RentAsync("conv-a"))
        {
            first = lease.Sandbox.Name;
            Assert.False(lease.PreviousSandboxLost);
        }

        ValueTask<SandboxLease> again = pool.RentAsync("conv-a");
        Assert.True(again.IsCompletedSuccessfully, "a recently used conversation box is handed out without awaiting");
        await using SandboxLease second = await again;
        Assert.Equal(first, second.Sandbox.Name);
        Assert.Equal(1, _provisioner.Created);
    }

    [Fact]
    public async Task RentAsync_DifferentConversations_GetDifferentBoxes()
    {
        await using SandboxLeasePool pool = CreatePool();
        await using SandboxLease a = await pool.RentAsync("conv-a");
        await using SandboxLease b = await pool.RentAsync("conv-b");
        Assert.NotEqual(a.Sandbox.Name, b.Sandbox.Name);
        Assert.Equal(new SandboxPoolStatistics(0, 0, 2, 2), pool.GetStatistics());
    }

    [Fact]
    public async Task WarmBoxes_AreCreatedAhead_AndHandedToANewConversation_ThenRefilled()
    {
        await using SandboxLeasePool pool = CreatePool(o => o.MinIdle = 2);
        await EventuallyAsync(() => pool.GetStatistics().Idle == 2, "two warm boxes");
        Assert.Equal(2, _provisioner.Created);

        await using SandboxLease lease = await pool.RentAsync("conv-a");
        Assert.StartsWith("fake-", lease.Sandbox.Name, StringComparison.Ordinal);
        Assert.True(int.Parse(lease.Sandbox.Name["fake-".Length..], System.Globalization.CultureInfo.InvariantCulture) <= 2, "the lease got a warm box, not a new one");
        await EventuallyAsync(() => pool.GetStatistics().Idle == 2, "the warm set is topped up again");
        Assert.Equal(3, _provisioner.Created);
    }

    [Fact]
    public async Task RentAsync_WhenPoolExhausted_ThrowsWithSettingNames()
    {
        await using SandboxLeasePool pool = CreatePool(o => o.MaxBoxes = 1);
        await using (await pool.RentAsync("conv-a"))
        {
        }

        ValueTask<SandboxLease> waiting = pool.RentAsync("conv-b");
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(31));

        SandboxPoolExhaustedException error = await Assert.ThrowsAsync<SandboxPoolExhaustedException>(async () => await waiting);
        Assert.Contains("MaxBoxes", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConversationIdleTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("AcquireTimeout", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsTransient);
        Assert.Single(_provisioner.Live);
    }

    [Fact]
    public async Task RentAsync_WhileSameConversationHoldsTheLease_WaitsThenGetsTheSameBox()
    {
        await using SandboxLeasePool pool = CreatePool();
        SandboxLease first = await pool.RentAsync("conv-a");
        ValueTask<SandboxLease> second = pool.RentAsync("conv-a");
        Assert.False(second.IsCompleted, "one lease at a time per conversation");

        await first.DisposeAsync();
        await using SandboxLease lease = await second;
        Assert.Equal(first.Sandbox.Name, lease.Sandbox.Name);
    }

    [Fact]
    public async Task RentAsync_WhenOwnConversationNeverReturnsTheLease_TimesOutNamingAcquireTimeout()
    {
        await using SandboxLeasePool pool = CreatePool();
        await using SandboxLease held = await pool.RentAsync("conv-a");
        ValueTask<SandboxLease> second = pool.RentAsync("conv-a");
        _time.Advance(TimeSpan.FromSeconds(31));
        SandboxPoolExhaustedException error = await Assert.ThrowsAsync<SandboxPoolExhaustedException>(async () => await second);
        Assert.Contains("same conversation", error.Message, StringComparison.Ordinal);
        Assert.Contains("AcquireTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdleConversation_IsReclaimed_AndItsNextLeaseReportsTheLoss()
    {
        await using SandboxLeasePool pool = CreatePool();
        string first;
        await using (SandboxLease lease = await pool.RentAsync("conv-a"))
        {
            first = lease.Sandbox.Name;
        }

        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(10));
        await EventuallyAsync(() => _provisioner.Deleted.Contains(first), "the idle box is deleted");

        await using SandboxLease next = await pool.RentAsync("conv-a");
        Assert.NotEqual(first, next.Sandbox.Name);
        Assert.True(next.PreviousSandboxLost);

        await next.DisposeAsync();
        await using SandboxLease after = await pool.RentAsync("conv-a");
        Assert.False(after.PreviousSandboxLost, "the loss is reported once");
    }

    [Fact]
    public async Task ReleasedConversation_FreesCapacity_ForAWaitingConversation_WithAFreshBox()
    {
        await using SandboxLeasePool pool = CreatePool(o => o.MaxBoxes = 1);
        string first;
        await using (SandboxLease lease = await pool.RentAsync("conv-a"))
        {
            first = lease.Sandbox.Name;
        }

        ValueTask<SandboxLease> waiting = pool.RentAsync("conv-b");
        Assert.False(waiting.IsCompleted);
        await pool.ReleaseConversationAsync("conv-a");

        await using SandboxLease b = await waiting;
        Assert.NotEqual(first, b.Sandbox.Name);
        Assert.Contains(first, _provisioner.Deleted);
    }

    [Fact]
    public async Task RentAsync_AfterLongIdle_ChecksHealth_AndReplacesADeadBox()
    {
        await using SandboxLeasePool pool = CreatePool();
        string first;
        await using (SandboxLease lease = await pool.RentAsync("conv-a"))
        {
            first = lease.Sandbox.Name;
        }

        _provisioner.Healthy = box => box.Name != first;
        _time.Advance(TimeSpan.FromMinutes(2));
        await using SandboxLease next = await pool.RentAsync("conv-a");
        Assert.NotEqual(first, next.Sandbox.Name);
        Assert.True(next.PreviousSandboxLost);
        Assert.True(_provisioner.HealthChecks >= 1);
        await EventuallyAsync(() => _provisioner.Deleted.Contains(first), "the dead box is deleted");
    }

    [Fact]
    public async Task RentAsync_RecentlyUsedBox_SkipsTheHealthCheck()
    {
        await using SandboxLeasePool pool = CreatePool();
        await using (await pool.RentAsync("conv-a"))
        {
        }

        _time.Advance(TimeSpan.FromSeconds(5));
        await using (await pool.RentAsync("conv-a"))
        {
        }

        Assert.Equal(0, _provisioner.HealthChecks);
    }

    [Fact]
    public async Task BoxPastMaxLifetime_IsDeletedWhenReturned()
    {
        await using SandboxLeasePool pool = CreatePool(o => o.MaxLifetime = TimeSpan.FromMinutes(5));
        SandboxLease lease = await pool.RentAsync("conv-a");
        string name = lease.Sandbox.Name;
        _time.Advance(TimeSpan.FromMinutes(6));
        await lease.DisposeAsync();
        await EventuallyAsync(() => _provisioner.Deleted.Contains(name), "the old box is deleted");

        await using SandboxLease next = await pool.RentAsync("conv-a");
        Assert.NotEqual(name, next.Sandbox.Name);
        Assert.True(next.PreviousSandboxLost);
    }

    [Fact]
    public async Task DisposeAsync_DeletesEveryBoxItCreated()
    {
        SandboxLeasePool pool = CreatePool(o => o.MinIdle = 1);
        await pool.WarmUpAsync();
        SandboxLease leased = await pool.RentAsync("conv-a");
        await using (await pool.RentAsync("conv-b"))
        {
        }

        await pool.DisposeAsync();
        Assert.Empty(_provisioner.Live);
        Assert.Equal(_provisioner.Created, _provisioner.Deleted.Count);
        await leased.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => pool.RentAsync("conv-c"));
    }

    [Fact]
    public async Task FailedCreate_GivesItsSlotBack()
    {
        await using SandboxLeasePool pool = CreatePool(o => o.MaxBoxes = 1);
        _provisioner.BeforeCreate = _ => throw new SandboxApiException("boom");
        await Assert.ThrowsAsync<SandboxApiException>(async () => await pool.RentAsync("conv-a"));

        _provisioner.BeforeCreate = null;
        await using SandboxLease lease = await pool.RentAsync("conv-a");
        Assert.Equal(new SandboxPoolStatistics(0, 0, 1, 1), pool.GetStatistics());
    }

    [Fact]
    public async Task ManyConversationsRentingAtOnce_NeverShareABox()
    {
        const int conversations = 40;
        const int rentsEach = 25;
        await using SandboxLeasePool pool = CreatePool(o =>
        {
            o.MaxBoxes = conversations;
            o.MinIdle = 4;
        });
        _provisioner.BeforeCreate = _ => Task.Delay(Random.Shared.Next(0, 3));
        var owner = new ConcurrentDictionary<string, string>();
        var inUse = new ConcurrentDictionary<string, int>();
        int violations = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, conversations * rentsEach), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            string conversation = "conv-" + (i % conversations);
            await using SandboxLease lease = await pool.RentAsync(conversation, ct);
            string box = lease.Sandbox.Name;
            if (owner.GetOrAdd(box, conversation) != conversation || lease.ConversationId != conversation)
            {
                Interlocked.Increment(ref violations);
            }

            if (inUse.AddOrUpdate(box, 1, (_, n) => n + 1) != 1)
            {
                Interlocked.Increment(ref violations);
            }

            await Task.Yield();
            inUse.AddOrUpdate(box, 0, (_, n) => n - 1);
        });

        Assert.Equal(0, violations);
        Assert.Equal(conversations, owner.Count);
        Assert.True(_provisioner.Created <= conversations, $"created {_provisioner.Created} boxes for {conversations} conversations with MaxBoxes={conversations}");
    }
}

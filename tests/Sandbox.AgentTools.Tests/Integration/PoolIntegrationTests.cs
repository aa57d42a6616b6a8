using Sandbox.Client;

namespace Sandbox.AgentTools.Tests;

[Collection(LocalServerCollection.Name)]
public sealed class PoolIntegrationTests(LocalServerFixture fixture)
{
    [Fact]
    public async Task ConcurrentConversations_EachSeeOnlyTheirOwnState()
    {
        ToolHarness[] chats = Enumerable.Range(0, 6).Select(i => new ToolHarness(fixture.Pool, $"iso-{i}-{Guid.NewGuid():N}")).ToArray();
        try
        {
            await Task.WhenAll(chats.Select((chat, i) => chat.CallAsync("run_code", new { code = $"owner = {i}\nopen('owner.txt', 'w').write(str({i}))", language = "python" })));
            ToolCall[] reads = await Task.WhenAll(chats.Select(chat => chat.CallAsync("run_code", new { code = "print(owner, open('owner.txt').read())", language = "python" })));
            for (int i = 0; i < chats.Length; i++)
            {
                Assert.Equal($"{i} {i}\n", reads[i].Str("stdout"));
            }
        }
        finally
        {
            foreach (ToolHarness chat in chats)
            {
                await chat.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ParallelCallsOfOneConversation_RunOneAtATime()
    {
        await using var chat = new ToolHarness(fixture.Pool, "serial-" + Guid.NewGuid().ToString("N"));
        await chat.CallAsync("run_code", new { code = "log = []", language = "python" });
        ToolCall[] calls = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            chat.CallAsync("run_code", new { code = $"import time\nlog.append('start {i}')\ntime.sleep(0.05)\nlog.append('end {i}')\nprint({i})", language = "python" })));
        Assert.All(calls, c => Assert.Equal("ok", c.Str("status")));
        ToolCall log = await chat.CallAsync("run_code", new { code = "print(all(log[k].split()[1] == log[k + 1].split()[1] for k in range(0, len(log), 2)), len(log))", language = "python" });
        Assert.Equal("True 8\n", log.Str("stdout"));
    }

    [Fact]
    public async Task ReleasedConversation_AndDisposedPool_DeleteTheirBoxes()
    {
        string released;
        string kept;
        await using (var pool = new SandboxLeasePool(fixture.Client, new SandboxPoolOptions { MinIdle = 1, MaxBoxes = 4 }))
        {
            await pool.WarmUpAsync();
            await using (SandboxLease a = await pool.RentAsync("a"))
            {
                released = a.Sandbox.Name;
            }

            await using (SandboxLease b = await pool.RentAsync("b"))
            {
                kept = b.Sandbox.Name;
            }

            await pool.ReleaseConversationAsync("a");
            await Assert.ThrowsAsync<ResourceNotFoundException>(() => fixture.Client.GetSandboxAsync(released));
            Assert.Equal(kept, (await fixture.Client.GetSandboxAsync(kept)).Name);
        }

        IReadOnlyList<Sandbox.Protocol.SandboxInfo> left = await fixture.Client.ListSandboxesAsync();
        Assert.DoesNotContain(left, b => b.Name == kept || b.Name == released);
    }
}

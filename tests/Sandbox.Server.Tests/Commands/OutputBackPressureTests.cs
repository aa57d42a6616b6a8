using Sandbox.Client;

namespace Sandbox.Server.Tests.Commands;

/// <summary>
/// The fixture's server keeps 256 KiB of output per stream. An attached client must still receive every byte of a fast
/// producer (the command waits for it), while a command nobody is attached to is never held back.
/// </summary>
public sealed class OutputBackPressureTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task RunAsync_FastProducerFarLargerThanTheBuffer_DeliversEveryByte()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();

        var result = await box.RunAsync("head -c 20000000 /dev/zero | tr '\\0' a; echo >&2 err-done",
            new RunOptions { Timeout = TimeSpan.FromSeconds(120) });

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(20_000_000, result.Stdout.Length);
        Assert.Equal(0, result.StdoutSkippedBytes);
        Assert.True(result.Stdout.All(c => c == 'a'));
        Assert.Equal("err-done\n", result.Stderr);
    }

    [Fact]
    public async Task DetachedCommand_WithLargeOutput_IsNotHeldBack()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        await using (var handle = await box.StartCommandAsync(
            "head -c 5000000 /dev/zero; echo finished > /home/user/marker",
            new RunOptions { Timeout = TimeSpan.FromSeconds(120) }))
        {
            // Detach at once: nobody reads the output.
        }

        string marker = "";
        for (int attempt = 0; attempt < 100 && marker.Length == 0; attempt++)
        {
            await Task.Delay(100);
            marker = (await box.RunAsync("cat /home/user/marker 2>/dev/null || true")).Stdout;
        }

        Assert.Equal("finished\n", marker);
    }
}

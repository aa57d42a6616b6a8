using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Commands;

/// <summary>
/// Many short commands at once: every one must deliver its whole output before its exit frame. Under this load the
/// server used to cut a finished command's output pump off after a fixed grace period, so some commands reported
/// exit 0 with empty stdout.
/// </summary>
public sealed class ConcurrentOutputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ThreeHundredConcurrentWebSocketCommands_EveryOneReturnsItsOutput()
    {
        var boxes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fixture.CreateBoxAsync()));
        try
        {
            const int commands = 300;
            var results = await Task.WhenAll(Enumerable.Range(0, commands).Select(async i =>
            {
                var box = boxes[i % boxes.Length];
                try
                {
                    var frames = await fixture.RunWsAsync(box.Id!, $"echo out-{i}; echo err-{i} >&2");
                    return (i, frames, error: (string?)null);
                }
                catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or OperationCanceledException)
                {
                    return (i, frames: new List<ExecutionServerFrame>(), error: e.Message);
                }
            }));

            var wrong = results
                .Where(r => r.error is not null
                    || r.frames.Count == 0
                    || r.frames[^1].Type != "exit"
                    || r.frames[^1].ExitCode != 0
                    || ServerFixture.Collect(r.frames, "stdout") != $"out-{r.i}\n"
                    || ServerFixture.Collect(r.frames, "stderr") != $"err-{r.i}\n")
                .Select(r => $"#{r.i}: {r.error ?? string.Join(" | ", r.frames.Select(f => $"{f.Type}:{f.Data}{f.ExitCode}"))}")
                .ToList();
            Assert.True(wrong.Count == 0, $"{wrong.Count} of {commands} commands returned a wrong result:\n{string.Join('\n', wrong.Take(20))}");
        }
        finally
        {
            await Task.WhenAll(boxes.Select(b => fixture.DeleteBoxAsync(b.Name)));
        }
    }
}

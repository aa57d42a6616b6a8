using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Files;

/// <summary>
/// The time bound of glob and grep: at <c>FileWalkTimeout</c> a walk stops and answers the matches so far with
/// <c>truncated: true</c> (spec delta 5.3: "true when the server hit its result cap (or limit) or its deadline"), frees
/// its slot, and the next walk runs. The depth and entry bounds answer 422 (HostileBoxServerTests).
/// </summary>
public sealed class WalkDeadlineTests
{
    [Fact]
    public async Task AWalkPastItsDeadline_AnswersAtOnceWithTruncated_AndFreesItsSlot()
    {
        // A deadline far shorter than the walks below can take on any machine (5,000 directories to open, 48 MiB of lines).
        var timeout = TimeSpan.FromMilliseconds(1);
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions
        {
            Configure = o =>
            {
                o.WarmBoxes = 0;
                o.FileWalkTimeout = timeout;
            },
        });
        using var client = server.CreateClient();
        await using var box = await client.CreateSandboxAsync();
        var made = await box.RunAsync(
            "python3 -c \"import os\nos.makedirs('/home/user/many')\nfor i in range(5000): os.makedirs('/home/user/many/d%d/e' % i)\n"
            + "open('/home/user/big.txt', 'w').write('needle in a line\\n' * 3000000)\" && echo made",
            new Sandbox.Client.RunOptions { Timeout = TimeSpan.FromMinutes(3) });
        Assert.Equal("made\n", made.Stdout);
        using var http = new HttpClient { BaseAddress = server.LangSmithEndpoint, Timeout = TimeSpan.FromMinutes(1) };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);

        // More walks than the per-box slots (2), one after another: each answers, so each released its slot.
        for (int i = 0; i < 3; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            using var glob = await http.PostAsJsonAsync($"/dp/{box.Info.Id}/glob", new { pattern = "**/*.none", path = "/home/user" });
            Assert.Equal(HttpStatusCode.OK, glob.StatusCode);
            var globbed = await glob.Content.ReadFromJsonAsync<GlobResponse>(SandboxJson.Options);
            Assert.True(globbed!.Truncated, "a glob stopped by its deadline must say truncated");
            Assert.Empty(globbed.Matches);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"the glob answered after {stopwatch.Elapsed}");

            stopwatch.Restart();
            using var grep = await http.PostAsJsonAsync($"/dp/{box.Info.Id}/grep", new { pattern = "needle", path = "/home/user", limit = 10_000_000 });
            Assert.Equal(HttpStatusCode.OK, grep.StatusCode);
            var grepped = await grep.Content.ReadFromJsonAsync<GrepResponse>(SandboxJson.Options);
            Assert.True(grepped!.Truncated, "a grep stopped by its deadline must say truncated");
            Assert.True(grepped.Matches.Count < 3_000_000, $"{grepped.Matches.Count} matches: the grep did not stop");
            Assert.All(grepped.Matches, m => Assert.Equal("/home/user/big.txt", m.Path));
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"the grep answered after {stopwatch.Elapsed}");
        }

        // The box and the server are fine.
        Assert.Equal("ok\n", (await box.RunAsync("echo ok")).Stdout);
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Isolation;

/// <summary>A box created without fs_capacity_bytes still cannot fill the host disk.</summary>
public sealed class DefaultDiskCapTests
{
    [Fact]
    public async Task ABoxWithoutFsCapacity_CannotWriteMoreThanTheDefaultCap()
    {
        const long Cap = 128L * 1024 * 1024;
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions
        {
            Configure = o =>
            {
                o.WarmBoxes = 1;
                o.DefaultFsCapacityBytes = Cap;
            },
        });
        using var http = new HttpClient { BaseAddress = server.LangSmithEndpoint, Timeout = TimeSpan.FromMinutes(3) };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);
        foreach (int attempt in new[] { 1, 2 }) // the second create takes the warm box
        {
            using var created = await http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = true });
            string body = await created.Content.ReadAsStringAsync();
            Assert.True(created.IsSuccessStatusCode, body);
            string id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
            using var run = await http.PostAsJsonAsync($"/dp/{id}/execute", new
            {
                command = "dd if=/dev/zero of=/home/user/big bs=1M count=1024 2>&1 | grep -o 'No space left on device'; stat -c %s /home/user/big; df -B1 --output=size /home/user | tail -1",
                timeout = 120,
            });
            var result = JsonSerializer.Deserialize<ExecuteResponse>(await run.Content.ReadAsStringAsync(), SandboxJson.Options)!;
            Assert.Contains("No space left on device", result.Stdout, StringComparison.Ordinal);
            string[] lines = result.Stdout.Trim().Split('\n');
            Assert.True(long.Parse(lines[^2]) < Cap, $"attempt {attempt}: {result.Stdout}");
            Assert.True(long.Parse(lines[^1].Trim()) <= Cap, result.Stdout);

            // On the host the box's writes went to its own image, bounded by the cap.
            string image = Path.Combine(server.DataDirectory, "boxes", id, "disk.img");
            Assert.True(File.Exists(image), "the box has a disk of its own");
            Assert.True(new FileInfo(image).Length <= Cap);
        }
    }
}

using System.Diagnostics;
using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

/// <summary>
/// <c>ssh-setup</c> then real <c>ssh</c> and <c>scp</c> through the generated config into a box running sshd (the host's
/// OpenSSH server binary, visible in the box, started as box root with a host key generated in the box). A temporary
/// HOME holds the SSH config; the real ~/.ssh is never touched.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class SshSetupCommandTests(CliFixture fixture)
{
    [Fact]
    public async Task SshSetup_ThenSshAndScp_ThroughTheTunnel()
    {
        Assert.True(File.Exists("/usr/sbin/sshd"), "openssh-server is not installed (eng/install-deps.sh installs it)");
        string box = await fixture.CreateBoxAsync("ssh");
        string home = Path.Combine(fixture.TempRoot, "home-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.Combine(home, ".ssh"));
        string key = Path.Combine(home, "id_test");
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cli-test", "-f", key);
        var env = fixture.Env;
        env["HOME"] = home;

        // Before sshd runs: a warning, but the key and the config are written.
        var early = await CliRunner.RunAsync(["ssh-setup", box, "--identity", key + ".pub"], env);
        Assert.True(early.ExitCode == 0, early.ToString());
        Assert.Contains("warning: sshd is not listening on port 22", early.Stderr, StringComparison.Ordinal);
        Assert.False(early.Json.GetProperty("sshd_running").GetBoolean());

        var sshd = await fixture.RunAsync("exec", box, "--", "sh", "-c",
            "set -e; mkdir -p /run/sshd /root/sshd; ssh-keygen -q -t ed25519 -N '' -f /root/sshd/host_ed25519; " +
            "nohup /usr/sbin/sshd -D -e -p 22 -h /root/sshd/host_ed25519 -o PidFile=none -o UsePAM=yes -o StrictModes=no " +
            "-o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o MaxStartups=100 > /root/sshd/log 2>&1 & " +
            "for i in $(seq 50); do grep -qiE ':0016 [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6 && exit 0; sleep 0.2; done; cat /root/sshd/log; exit 1");
        Assert.True(sshd.ExitCode == 0, sshd.ToString());

        var setup = await CliRunner.RunAsync(["ssh-setup", box, "--identity", key + ".pub"], env);
        Assert.True(setup.ExitCode == 0, setup.ToString());
        Assert.True(setup.Json.GetProperty("sshd_running").GetBoolean());
        Assert.DoesNotContain("warning", setup.Stderr, StringComparison.Ordinal);

        string config = await File.ReadAllTextAsync(Path.Combine(home, ".ssh", "config"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(config, $"Host sandbox-{box}\n"));
        Assert.Contains($"tunnel {box} --remote-port 22 --stdio", config, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Server.ApiKey, config, StringComparison.Ordinal);
        string knownHosts = await File.ReadAllTextAsync(Path.Combine(home, ".ssh", "known_hosts_sandboxes"));
        string boxHostKey = (await fixture.RunAsync("exec", box, "--", "cat", "/root/sshd/host_ed25519.pub")).Stdout.Split(' ')[1];
        Assert.Contains($"sandbox-{box} ssh-ed25519 {boxHostKey}", knownHosts, StringComparison.Ordinal);
        var authorized = await fixture.RunAsync("exec", box, "--", "cat", "/root/.ssh/authorized_keys");
        Assert.Single(authorized.Stdout.Trim().Split('\n'));   // added once although ssh-setup ran twice

        // Idempotent: a third run changes nothing.
        var again = await CliRunner.RunAsync(["ssh-setup", box, "--identity", key + ".pub"], env);
        Assert.Contains("already up to date", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(config, await File.ReadAllTextAsync(Path.Combine(home, ".ssh", "config")));

        // A real ssh through the generated block (strict host key checking against known_hosts_sandboxes).
        string[] sshOptions = ["-F", Path.Combine(home, ".ssh", "config"), "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"];
        var ssh = await RunAsync("ssh", env, [.. sshOptions, $"sandbox-{box}", "echo ssh-$((40+2)); hostname; id -u"]);
        if (ssh.ExitCode != 0)
        {
            var diagnostics = await fixture.RunAsync("exec", box, "--", "sh", "-c", "ps -eo pid,args; tail -20 /root/sshd/log");
            Assert.Fail(ssh + "\n--- in the box\n" + diagnostics.Stdout + diagnostics.Stderr);
        }

        Assert.Equal("ssh-42\nsandbox\n0\n", ssh.Stdout);

        string local = Path.Combine(home, "payload.bin");
        var payload = new byte[256 * 1024];
        Random.Shared.NextBytes(payload);
        await File.WriteAllBytesAsync(local, payload);
        var up = await RunAsync("scp", env, [.. sshOptions, "-q", local, $"sandbox-{box}:/root/payload.bin"]);
        Assert.True(up.ExitCode == 0, up.ToString());
        var sum = await fixture.RunAsync("exec", box, "--", "sha256sum", "/root/payload.bin");
        Assert.StartsWith(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload)), sum.Stdout, StringComparison.Ordinal);
        string back = Path.Combine(home, "back.bin");
        var down = await RunAsync("scp", env, [.. sshOptions, "-q", $"sandbox-{box}:/root/payload.bin", back]);
        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.Equal(payload, await File.ReadAllBytesAsync(back));

        await fixture.RunAsync("delete", box);
    }

    [Fact]
    public async Task SshSetup_BadIdentity_IsOneLine()
    {
        string home = Path.Combine(fixture.TempRoot, "home-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(home);
        var env = fixture.Env;
        env["HOME"] = home;
        var none = await CliRunner.RunAsync(["ssh-setup", "whatever"], env);
        Assert.Equal(1, none.ExitCode);
        Assert.StartsWith("error: no SSH public key found in", none.Stderr, StringComparison.Ordinal);

        var missing = await CliRunner.RunAsync(["ssh-setup", "whatever", "--identity", "/nonexistent/key.pub"], env);
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith("error: --identity: cannot read '/nonexistent/key.pub'", missing.Stderr, StringComparison.Ordinal);

        string privateKey = Path.Combine(home, "id_priv");
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", privateKey);
        var wrongKind = await CliRunner.RunAsync(["ssh-setup", "whatever", "--identity", privateKey], env);
        Assert.Equal(2, wrongKind.ExitCode);
        Assert.Contains("is a private key", wrongKind.Stderr, StringComparison.Ordinal);
        Assert.Single(wrongKind.Stderr.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(home, ".ssh", "config")));
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true })!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed: {process.StandardError.ReadToEnd()}");
    }

    private static async Task<CliResult> RunAsync(string file, IReadOnlyDictionary<string, string?> env, string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}

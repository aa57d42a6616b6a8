using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Cli.Infrastructure;
using Sandbox.Cli.Output;
using Sandbox.Client;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox ssh-setup NAME [--identity KEY.pub]</c>: adds the public key to the box's root <c>authorized_keys</c>,
/// records the host key sshd actually serves in <c>~/.ssh/known_hosts_sandboxes</c>, and writes (or replaces) a
/// <c>Host sandbox-NAME</c> block whose <c>ProxyCommand</c> is <c>sandbox tunnel NAME --remote-port 22 --stdio</c>.
/// The block holds no credential: the ProxyCommand authenticates with <c>LANGSMITH_API_KEY</c> from the environment ssh runs in.
/// </summary>
internal static class SshSetupCommand
{
    private const string Marker = "# Added by: sandbox ssh-setup";

    public static Command Build()
    {
        var name = BoxCommands.NameArgument();
        var identity = new Option<string?>("--identity") { Description = "Public key to authorize (default: ~/.ssh/id_ed25519.pub, id_ecdsa.pub or id_rsa.pub)" };
        var command = new Command("ssh-setup", "Configure ssh, scp, rsync and sftp access to a sandbox through a tunnel") { name, identity };
        CliApp.Handle(command, async ctx =>
        {
            string boxName = ctx.Get(name);
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            string sshDir = Path.Combine(home, ".ssh");
            string keyPath = ResolveKey(ctx.Get(identity), sshDir);
            string key = ReadPublicKey(keyPath);
            var box = await ctx.Client.GetSandboxAsync(boxName, ctx.Interrupt).ConfigureAwait(false);

            bool sshdRunning = (await box.RunAsync(
                "grep -qiE '^ *[0-9]+: [0-9A-F]+:0016 [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null",
                new RunOptions { Timeout = TimeSpan.FromSeconds(30), Shell = "/bin/sh" }, ctx.Interrupt).ConfigureAwait(false)).Success;
            if (!sshdRunning)
            {
                OutputWriter.Note($"warning: sshd is not listening on port 22 in '{boxName}'; ssh will not connect until it runs there (e.g. /usr/sbin/sshd).");
            }

            var authorize = await box.RunAsync(
                "umask 077; mkdir -p /root/.ssh && touch /root/.ssh/authorized_keys && " +
                "{ grep -qxF \"$SANDBOX_SSH_KEY\" /root/.ssh/authorized_keys || printf '%s\\n' \"$SANDBOX_SSH_KEY\" >> /root/.ssh/authorized_keys; }",
                new RunOptions { Timeout = TimeSpan.FromSeconds(30), Shell = "/bin/sh", Env = new Dictionary<string, string> { ["SANDBOX_SSH_KEY"] = key } },
                ctx.Interrupt).ConfigureAwait(false);
            if (!authorize.Success)
            {
                throw new CliException($"could not add the key to /root/.ssh/authorized_keys in '{boxName}': {authorize.Stderr.Trim()}");
            }

            string alias = "sandbox-" + boxName;
            string knownHosts = Path.Combine(sshDir, "known_hosts_sandboxes");
            string? hostKey = await FetchHostKeyAsync(box, sshdRunning, ctx.Interrupt).ConfigureAwait(false);
            Directory.CreateDirectory(sshDir);
            if (hostKey is null)
            {
                OutputWriter.Note($"warning: could not read the sandbox's SSH host key; ssh will ask to confirm it on first connect.");
            }
            else
            {
                WriteKnownHost(knownHosts, alias, hostKey);
            }

            string configPath = Path.Combine(sshDir, "config");
            string block = ConfigBlock(boxName, alias, knownHosts, ctx.EndpointOption);
            string change = WriteConfigBlock(configPath, alias, block);
            if (ctx.Get(GlobalOptions.ApiKey) is not null)
            {
                OutputWriter.Note("note: the SSH config holds no API key; export LANGSMITH_API_KEY before running ssh.");
            }

            OutputWriter.Note($"{change} {configPath}. Connect with: ssh {alias}");
            ctx.Output.Object(new JsonObject
            {
                ["host"] = alias,
                ["ssh_config"] = configPath,
                ["known_hosts"] = hostKey is null ? null : knownHosts,
                ["identity"] = keyPath,
                ["sshd_running"] = sshdRunning,
            });
            return 0;
        });
        return command;
    }

    private static string ResolveKey(string? explicitPath, string sshDir)
    {
        if (explicitPath is not null)
        {
            return explicitPath;
        }

        foreach (var candidate in new[] { "id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub" })
        {
            string path = Path.Combine(sshDir, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new CliException($"no SSH public key found in {sshDir} (id_ed25519.pub, id_ecdsa.pub, id_rsa.pub); pass --identity KEY.pub");
    }

    private static string ReadPublicKey(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--identity: cannot read '{path}': {e.Message}", 2);
        }

        if (text.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new CliException($"--identity: '{path}' is a private key; pass the public key (.pub)", 2);
        }

        var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (text.Contains('\n', StringComparison.Ordinal) || parts.Length < 2 || !(parts[0].StartsWith("ssh-", StringComparison.Ordinal) || parts[0].StartsWith("ecdsa-", StringComparison.Ordinal) || parts[0].StartsWith("sk-", StringComparison.Ordinal)))
        {
            throw new CliException($"--identity: '{path}' is not an SSH public key (expected one line like 'ssh-ed25519 AAAA... comment')", 2);
        }

        return text;
    }

    /// <summary>The key sshd presents (ssh-keyscan in the box) when it runs; else the usual host key files.</summary>
    private static async Task<string?> FetchHostKeyAsync(SandboxInstance box, bool sshdRunning, CancellationToken cancellationToken)
    {
        if (sshdRunning)
        {
            // One key type per connection, the preferred first: a burst of parallel probes can trip sshd's MaxStartups.
            foreach (var type in new[] { "ed25519", "ecdsa", "rsa", "ed25519" })
            {
                var scan = await box.RunAsync($"ssh-keyscan -T 10 -t {type} -p 22 127.0.0.1 2>/dev/null", new RunOptions { Timeout = TimeSpan.FromSeconds(30), Shell = "/bin/sh" }, cancellationToken).ConfigureAwait(false);
                var line = scan.Stdout.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
                    .Select(l => l.Split(' ', 2)).Where(p => p.Length == 2).Select(p => p[1]).FirstOrDefault();
                if (line is not null)
                {
                    return line;
                }
            }

            OutputWriter.Note("warning: sshd did not answer ssh-keyscan; using the host key files in /etc/ssh instead.");
        }

        var file = await box.RunAsync(
            "for f in /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub /etc/ssh/ssh_host_rsa_key.pub; do [ -r \"$f\" ] && { cat \"$f\"; exit 0; }; done; exit 1",
            new RunOptions { Timeout = TimeSpan.FromSeconds(20), Shell = "/bin/sh" }, cancellationToken).ConfigureAwait(false);
        if (!file.Success)
        {
            return null;
        }

        var fields = file.Stdout.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 ? fields[0] + " " + fields[1] : null;
    }

    private static void WriteKnownHost(string path, string alias, string hostKey)
    {
        var lines = File.Exists(path) ? File.ReadAllLines(path).Where(l => !l.StartsWith(alias + " ", StringComparison.Ordinal)).ToList() : [];
        lines.Add(alias + " " + hostKey);
        WritePrivate(path, string.Join('\n', lines) + "\n");
    }

    private static string ConfigBlock(string boxName, string alias, string knownHosts, string? endpoint)
    {
        var proxy = new StringBuilder(SelfCommand());
        proxy.Append(" tunnel ").Append(ExecCommand.Quote(boxName)).Append(" --remote-port 22 --stdio");
        if (endpoint is not null)
        {
            proxy.Append(" --endpoint ").Append(ExecCommand.Quote(endpoint));
        }

        return $"""
            {Marker} {boxName}
            Host {alias}
                User root
                ProxyCommand {proxy}
                UserKnownHostsFile "{knownHosts}"
                StrictHostKeyChecking yes

            """;
    }

    /// <summary>How to run this CLI again: the tool's own path, or <c>dotnet path/sandbox.dll</c> when run through dotnet.</summary>
    private static string SelfCommand()
    {
        string process = Environment.ProcessPath ?? "sandbox";
        string dll = typeof(SshSetupCommand).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && dll.Length > 0
            ? ExecCommand.Quote(process) + " " + ExecCommand.Quote(dll)
            : ExecCommand.Quote(process);
    }

    /// <summary>Appends the block, or replaces the block of the same host; returns what happened.</summary>
    private static string WriteConfigBlock(string path, string alias, string block)
    {
        var lines = File.Exists(path) ? File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList() : [];
        int host = lines.FindIndex(l => l.Trim() == "Host " + alias);
        string result;
        if (host < 0)
        {
            if (lines.Count > 0 && lines[^1].Length > 0)
            {
                lines.Add("");
            }

            lines.AddRange(block.TrimEnd('\n').Split('\n'));
            lines.Add("");
            result = "Wrote the SSH config for " + alias + " to";
        }
        else
        {
            int start = host > 0 && lines[host - 1].StartsWith(Marker, StringComparison.Ordinal) ? host - 1 : host;
            int end = host + 1;
            while (end < lines.Count && !lines[end].TrimStart().StartsWith("Host ", StringComparison.Ordinal)
                && !lines[end].TrimStart().StartsWith("Match ", StringComparison.Ordinal) && !lines[end].StartsWith(Marker, StringComparison.Ordinal))
            {
                end++;
            }

            var old = string.Join('\n', lines.Skip(start).Take(end - start)).Trim();
            if (old == block.Trim())
            {
                return "The SSH config for " + alias + " is already up to date in";
            }

            var replacement = block.TrimEnd('\n').Split('\n').Append("").ToList();
            lines.RemoveRange(start, end - start);
            lines.InsertRange(start, replacement);
            result = "Updated the SSH config for " + alias + " in";
        }

        WritePrivate(path, string.Join('\n', lines).TrimEnd('\n') + "\n");
        return result;
    }

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(content));
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Server.Files;

namespace Sandbox.Server.Snapshots.Default;

/// <summary>
/// The root filesystem of the default snapshot: Debian built with <c>mmdebstrap</c> from the package mirror this machine's
/// apt uses, with Python and its data stack (numpy, pandas, matplotlib), Node.js, git, curl and build tools. Built once
/// per package list into a machine-wide cache folder (<c>/var/cache/sandbox-server/default-rootfs-&lt;hash&gt;</c>) that every
/// server on the machine shares read-only; concurrent servers serialise on a lock file, and only one builds.
/// </summary>
internal static class DebianRootfs
{
    /// <summary>What a code interpreter box is expected to have, plus the tools the server's own features use.</summary>
    internal static readonly string[] Packages =
    [
        "python3", "python3-pip", "python3-venv", "python3-numpy", "python3-pandas", "python3-matplotlib",
        "nodejs", "git", "curl", "ca-certificates", "build-essential", "less", "file", "xz-utils", "bzip2", "unzip", "zip",
        "util-linux", "bsdutils", "procps", "iproute2", "openssh-server", "openssh-client", "locales", "tzdata",
    ];

    /// <summary>Bumped when the build recipe (not the package list) changes, so caches are rebuilt.</summary>
    private const string RecipeVersion = "1";

    /// <summary>Machine-wide cache root: <c>/var/cache/sandbox-server</c> for root, else <c>$XDG_CACHE_HOME/sandbox-server</c>.</summary>
    public static string DefaultCacheRoot()
    {
        if (Environment.GetEnvironmentVariable("SANDBOX_SERVER_CACHE") is { Length: > 0 } configured)
        {
            return configured;
        }

        if (Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root")
        {
            return "/var/cache/sandbox-server";
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        return Path.Combine(xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "sandbox-server");
    }

    /// <summary>The Debian sources (one-line form) and codename read from <c>/etc/apt/sources.list*</c>.</summary>
    public static (IReadOnlyList<string> Sources, string Suite) ReadMirror(string aptDirectory = "/etc/apt")
    {
        var entries = new List<(string Uri, string Suite, string Components)>();
        var files = new List<string>();
        if (File.Exists(Path.Combine(aptDirectory, "sources.list")))
        {
            files.Add(Path.Combine(aptDirectory, "sources.list"));
        }

        string dir = Path.Combine(aptDirectory, "sources.list.d");
        if (Directory.Exists(dir))
        {
            files.AddRange(Directory.GetFiles(dir).Order(StringComparer.Ordinal));
        }

        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            if (file.EndsWith(".sources", StringComparison.Ordinal))
            {
                foreach (string stanza in text.Split(["\n\n", "\r\n\r\n"], StringSplitOptions.RemoveEmptyEntries))
                {
                    var fields = stanza.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#') && l.Contains(':', StringComparison.Ordinal))
                        .Select(l => (Key: l[..l.IndexOf(':', StringComparison.Ordinal)].Trim(), Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
                        .GroupBy(f => f.Key, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.OrdinalIgnoreCase);
                    if (!fields.TryGetValue("Types", out string? types) || !types.Split(' ').Contains("deb") || fields.GetValueOrDefault("Enabled") == "no")
                    {
                        continue;
                    }

                    foreach (string uri in (fields.GetValueOrDefault("URIs") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        foreach (string suiteName in (fields.GetValueOrDefault("Suites") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        {
                            entries.Add((uri, suiteName, fields.GetValueOrDefault("Components") ?? "main"));
                        }
                    }
                }
            }
            else if (file.EndsWith(".list", StringComparison.Ordinal))
            {
                foreach (string raw in text.Split('\n'))
                {
                    string line = raw.Trim();
                    if (!line.StartsWith("deb ", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
                    if (parts.Count > 0 && parts[0].StartsWith('['))
                    {
                        while (parts.Count > 0 && !parts[0].EndsWith(']'))
                        {
                            parts.RemoveAt(0);
                        }

                        parts.RemoveAt(0);
                    }

                    if (parts.Count >= 3)
                    {
                        entries.Add((parts[0], parts[1], string.Join(' ', parts.Skip(2))));
                    }
                }
            }
        }

        // Only the Debian archive itself (third-party repositories need their own keys and are not part of the default).
        var debian = entries.Where(e => e.Uri.TrimEnd('/').EndsWith("/debian", StringComparison.Ordinal) || e.Uri.TrimEnd('/').EndsWith("/debian-security", StringComparison.Ordinal)).ToList();
        string? suite = debian.Select(e => e.Suite).FirstOrDefault(s => !s.Contains('-', StringComparison.Ordinal) && !s.Contains('/', StringComparison.Ordinal));
        if (debian.Count == 0 || suite is null)
        {
            throw new SnapshotImportException($"No Debian package mirror found in {aptDirectory}/sources.list*; the default snapshot is built from the machine's Debian mirror (or set SandboxServerOptions.DefaultSnapshot = Host).");
        }

        var sources = debian.Select(e => $"deb {e.Uri} {e.Suite} {string.Join(' ', e.Components.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(c => c is "main" or "contrib" or "non-free" or "non-free-firmware").DefaultIfEmpty("main"))}")
            .Distinct().ToList();
        return (sources, suite);
    }

    /// <summary>The cache folder name for this package list and mirror.</summary>
    public static string CacheName(IReadOnlyList<string> sources, string suite)
    {
        string key = string.Join('\n', [RecipeVersion, suite, .. sources, .. Packages]);
        return "default-rootfs-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    /// <summary>
    /// Returns the cached root filesystem, building it first if this machine has none (under a lock file, so concurrent
    /// servers wait for one build). <paramref name="progress"/> receives a line when a build starts and ends.
    /// </summary>
    public static async Task<string> EnsureAsync(string cacheRoot, Action<string> progress, CancellationToken cancellationToken)
    {
        var (sources, suite) = ReadMirror();
        string name = CacheName(sources, suite);
        string final = Path.Combine(cacheRoot, name);
        if (File.Exists(Path.Combine(final, ".sandbox-complete")))
        {
            return final;
        }

        Directory.CreateDirectory(cacheRoot);
        string lockPath = Path.Combine(cacheRoot, name + ".lock");
        using var lockFile = await AcquireLockAsync(lockPath, progress, cancellationToken).ConfigureAwait(false);
        if (File.Exists(Path.Combine(final, ".sandbox-complete")))
        {
            return final;
        }

        if (!File.Exists("/usr/bin/mmdebstrap"))
        {
            throw new SnapshotImportException("Building the default snapshot needs mmdebstrap (eng/install-deps.sh installs it), or set SandboxServerOptions.DefaultSnapshot = Host for the host-folder snapshot.");
        }

        string staging = final + ".building";
        FileTree.Delete(staging);
        FileTree.Delete(final);
        var watch = Stopwatch.StartNew();
        progress($"sandbox-server: building the default snapshot (Debian {suite}: python3 with numpy/pandas/matplotlib, nodejs, git, curl, build-essential) into {final}. First time only; this takes a few minutes.");
        var psi = new ProcessStartInfo("/usr/bin/mmdebstrap")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in (string[])[
            "--mode=root", "--variant=apt", "--format=directory", "--quiet",
            "--include=" + string.Join(',', Packages),
            "--dpkgopt=force-unsafe-io",
            "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            "--dpkgopt=path-exclude=/usr/share/info/*",
            "--aptopt=Acquire::Retries \"3\"",
            "--customize-hook=mkdir -p \"$1/home/user\" && rm -f \"$1/etc/ssh/ssh_host_\"*",
            "--customize-hook=chroot \"$1\" python3 -c \"import matplotlib.pyplot, pandas, numpy\"",
            suite, staging, .. sources])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new SnapshotImportException("mmdebstrap could not be started");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        string log = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
        if (process.ExitCode != 0)
        {
            FileTree.Delete(staging);
            string tail = string.Join('\n', log.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(15));
            throw new SnapshotImportException($"Building the default snapshot with mmdebstrap failed (exit {process.ExitCode}; mirror {string.Join(", ", sources)}):\n{tail}");
        }

        await File.WriteAllTextAsync(Path.Combine(staging, ".sandbox-complete"), string.Join('\n', [.. sources, .. Packages]) + "\n", cancellationToken).ConfigureAwait(false);
        Directory.Move(staging, final);
        progress(string.Create(CultureInfo.InvariantCulture, $"sandbox-server: default snapshot built in {watch.Elapsed.TotalSeconds:0} s ({final})."));
        return final;
    }

    private static async Task<FileStream> AcquireLockAsync(string path, Action<string> progress, CancellationToken cancellationToken)
    {
        bool announced = false;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Linux: held until disposed (or the process dies).
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                if (!announced)
                {
                    announced = true;
                    progress("sandbox-server: waiting for another server on this machine to finish building the default snapshot...");
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

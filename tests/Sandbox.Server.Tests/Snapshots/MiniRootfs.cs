using System.Diagnostics;

namespace Sandbox.Server.Tests.Snapshots;

/// <summary>Builds a tiny root filesystem from host binaries (sh, sleep, cat, ls, env, pwd) and their libraries.</summary>
internal static class MiniRootfs
{
    private static readonly string[] Tools = ["/usr/bin/dash", "/usr/bin/sleep", "/usr/bin/cat", "/usr/bin/ls", "/usr/bin/env", "/usr/bin/pwd", "/usr/bin/id"];

    public static void Create(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
        foreach (string tool in Tools)
        {
            CopyPreservingPath(tool, root);
            foreach (string lib in Libraries(tool))
            {
                CopyPreservingPath(lib, root);
            }
        }

        File.CreateSymbolicLink(Path.Combine(root, "bin"), "usr/bin");
        File.CreateSymbolicLink(Path.Combine(root, "usr/bin/sh"), "dash");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        File.WriteAllText(Path.Combine(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc/marker"), "mini-rootfs\n");
    }

    private static void CopyPreservingPath(string hostPath, string root)
    {
        string real = Path.GetFullPath(new FileInfo(hostPath).ResolveLinkTarget(true)?.FullName ?? hostPath);
        foreach (string path in new[] { hostPath, real }.Distinct())
        {
            string target = root + path;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!File.Exists(target))
            {
                File.Copy(real, target);
            }
        }
    }

    private static IEnumerable<string> Libraries(string binary)
    {
        var psi = new ProcessStartInfo("ldd", [binary]) { RedirectStandardOutput = true };
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        foreach (string line in output.Split('\n'))
        {
            foreach (string token in line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.StartsWith('/') && File.Exists(token))
                {
                    yield return token;
                }
            }
        }
    }
}

using System.Globalization;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>Resolves a command's environment, working directory and user from the run_config layers (snapshot → box → command).</summary>
internal static class CommandSpecBuilder
{
    public const string DefaultWorkDir = "/home/user";

    public static CommandSpec Build(Box box, RunningBox running, BoxManager boxes, CommandStartRequest request)
    {
        var commandRunConfig = request.RunConfig;
        bool pty = request.Pty;
        if (commandRunConfig?.WorkDir is { } wd && !wd.StartsWith('/'))
        {
            throw new InvalidRequestException("run_config", "run_config.work_dir must be an absolute path");
        }

        var snapshot = boxes.Snapshots.Find(box.Record.SnapshotId);
        var effective = RunConfigs.Layer(RunConfigs.Layer(snapshot?.RunConfig, box.Record.RunConfig), commandRunConfig);
        var (uid, gid, home, userName) = ResolveUser(running.Files, effective?.User);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = home,
            ["USER"] = userName,
            ["LOGNAME"] = userName,
            ["LANG"] = "C.UTF-8",
            ["HOSTNAME"] = "sandbox",
            ["TERM"] = pty ? "xterm-256color" : "dumb",
        };
        foreach (var (k, v) in box.ContributedEnvironment)
        {
            environment[k] = v;
        }

        foreach (var (k, v) in effective?.EnvVars ?? new Dictionary<string, string>())
        {
            environment[k] = v;
        }

        foreach (var (k, v) in request.Env ?? new Dictionary<string, string>())
        {
            environment[k] = v;
        }

        foreach (var key in environment.Keys)
        {
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal)
                || environment[key].Contains('\0', StringComparison.Ordinal))
            {
                throw new InvalidRequestException("env", $"Invalid environment variable '{key}'");
            }
        }

        string workDir = request.Cwd is { Length: > 0 } c ? (c.StartsWith('/') ? c : DefaultWorkDir + "/" + c) : effective?.WorkDir ?? DefaultWorkDir;
        return new CommandSpec
        {
            Request = request with { CloseStdin = request.CloseStdin && !pty, TimeoutSeconds = Math.Max(0, request.TimeoutSeconds) },
            Shell = string.IsNullOrWhiteSpace(request.Shell) ? "/bin/bash" : request.Shell,
            Environment = environment,
            WorkingDirectory = workDir,
            Uid = uid,
            Gid = gid,
        };
    }

    /// <summary>Resolves <c>name</c>, <c>uid</c>, <c>name:group</c> or <c>uid:gid</c> against the box's /etc/passwd and /etc/group.</summary>
    internal static (int? Uid, int? Gid, string Home, string Name) ResolveUser(RootedFileSystem files, string? user)
    {
        if (string.IsNullOrEmpty(user) || user is "0" or "root" or "0:0" or "root:root")
        {
            return (null, null, "/root", "root");
        }

        string[] parts = user.Split(':', 2);
        var passwd = ReadTable(files, "/etc/passwd");
        int uid;
        int? gid = null;
        string home = DefaultWorkDir;
        string name = parts[0];
        if (int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int numeric))
        {
            uid = numeric;
            var row = passwd.FirstOrDefault(r => r.Length > 5 && r[2] == parts[0]);
            if (row is not null)
            {
                name = row[0];
                gid = int.Parse(row[3], CultureInfo.InvariantCulture);
                home = row[5];
            }
        }
        else
        {
            var row = passwd.FirstOrDefault(r => r.Length > 5 && r[0] == parts[0])
                ?? throw new InvalidRequestException("run_config", $"User '{parts[0]}' does not exist in the sandbox (/etc/passwd)");
            uid = int.Parse(row[2], CultureInfo.InvariantCulture);
            gid = int.Parse(row[3], CultureInfo.InvariantCulture);
            home = row[5];
        }

        if (parts.Length == 2)
        {
            if (int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int g))
            {
                gid = g;
            }
            else
            {
                var group = ReadTable(files, "/etc/group").FirstOrDefault(r => r.Length > 2 && r[0] == parts[1])
                    ?? throw new InvalidRequestException("run_config", $"Group '{parts[1]}' does not exist in the sandbox (/etc/group)");
                gid = int.Parse(group[2], CultureInfo.InvariantCulture);
            }
        }

        if (uid is < 0 or > 65535 || gid is < 0 or > 65535)
        {
            throw new InvalidRequestException("run_config", "user and group ids must be between 0 and 65535");
        }

        return (uid, gid ?? uid, home, name);
    }

    private const long MaxTableBytes = 4 * 1024 * 1024;

    private static List<string[]> ReadTable(RootedFileSystem files, string path)
    {
        try
        {
            using var handle = files.OpenRead(path, out var status);
            if (status.Size > MaxTableBytes)
            {
                return []; // a box-made giant passwd file is not read into server memory
            }

            using var stream = new FileStream(handle, FileAccess.Read);
            using var reader = new StreamReader(stream);
            var rows = new List<string[]>();
            while (reader.ReadLine() is { } line)
            {
                rows.Add(line.Split(':'));
            }

            return rows;
        }
        catch (IOException)
        {
            return [];
        }
    }
}

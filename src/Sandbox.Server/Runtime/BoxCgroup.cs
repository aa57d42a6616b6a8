using System.Globalization;

namespace Sandbox.Server.Runtime;

/// <summary>The cgroups of one box: the files its processes join, OOM accounting, and per-command sub-groups.</summary>
internal sealed class BoxCgroup
{
    private readonly CgroupMode _mode;
    private readonly IReadOnlyList<string> _groups;
    private readonly string? _memoryGroup;
    private readonly string? _pidsGroup;
    private int _commandCounter;

    public BoxCgroup(CgroupMode mode, IReadOnlyList<string> groups, IReadOnlyList<string> initJoinFiles, string? memoryGroup, string? pidsGroup,
        IReadOnlyList<BoxBindMount>? views = null)
    {
        _mode = mode;
        _groups = groups;
        InitJoinFiles = initJoinFiles;
        _memoryGroup = memoryGroup;
        _pidsGroup = pidsGroup;
        Views = views ?? [];
    }

    /// <summary>
    /// The box's own groups and where the box sees them (read-only): <c>/sys/fs/cgroup/{memory,cpu,pids}</c> on v1,
    /// <c>/sys/fs/cgroup</c> on v2, so runtimes that size themselves from cgroup limits find the box's limits there.
    /// </summary>
    public IReadOnlyList<BoxBindMount> Views { get; }

    /// <summary>cgroup.procs files the server writes the box init's pid into before the init goes on (all box processes descend from it).</summary>
    public IReadOnlyList<string> InitJoinFiles { get; }

    /// <summary>Idle, empty command groups kept for reuse: creating and removing cgroups costs milliseconds per command.</summary>
    private readonly System.Collections.Concurrent.ConcurrentBag<CommandCgroup> _idle = [];

    /// <summary>A sub-group for one command (reused when idle) so its whole process tree can be found and killed.</summary>
    public CommandCgroup RentCommandGroup()
    {
        while (_idle.TryTake(out var group))
        {
            if (group.IsEmpty())
            {
                return group;
            }
        }

        return CreateCommandGroup();
    }

    /// <summary>Returns a command's group for reuse when no process is left in it; otherwise it stays until the box stops.</summary>
    public void Return(CommandCgroup group)
    {
        if (group.IsEmpty())
        {
            _idle.Add(group);
        }
    }

    /// <summary>Creates a few command groups ahead of the first commands.</summary>
    public void Prewarm(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _idle.Add(CreateCommandGroup());
        }
    }

    private CommandCgroup CreateCommandGroup()
    {
        int n = Interlocked.Increment(ref _commandCounter);
        string name = "c" + n.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];
        if (_mode == CgroupMode.V2)
        {
            string group = Path.Combine(_groups[0], name);
            Directory.CreateDirectory(group);
            return new CommandCgroup(_mode, group, [Path.Combine(group, "cgroup.procs")]);
        }

        var joins = new List<string>();
        string? commandGroup = null;
        foreach (string g in _groups)
        {
            if (g == _pidsGroup)
            {
                commandGroup = Path.Combine(g, name);
                Directory.CreateDirectory(commandGroup);
                joins.Add(Path.Combine(commandGroup, "cgroup.procs"));
            }
            else
            {
                joins.Add(Path.Combine(g, "cgroup.procs"));
            }
        }

        return new CommandCgroup(_mode, commandGroup, joins);
    }

    /// <summary>How many processes of the box the kernel has OOM-killed so far.</summary>
    public long OomKillCount()
    {
        if (_memoryGroup is null)
        {
            return 0;
        }

        string file = Path.Combine(_memoryGroup, _mode == CgroupMode.V2 ? "memory.events" : "memory.oom_control");
        try
        {
            foreach (string line in File.ReadLines(file))
            {
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(9), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    /// <summary>
    /// Removes the groups after the box's launcher has exited. A SIGKILLed process leaves its group only once the kernel
    /// has finished its exit, which takes seconds on a loaded host, so each attempt kills what is still in the group and
    /// retries for up to <see cref="RemovalBudget"/>; what is still there after that is removed by the next server start.
    /// </summary>
    public async Task DeleteAsync()
    {
        foreach (string group in _groups)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    foreach (string sub in Directory.GetDirectories(group))
                    {
                        CommandCgroup.KillAndRemove(_mode, sub);
                    }

                    if (Directory.Exists(group))
                    {
                        Directory.Delete(group);
                    }

                    break;
                }
                catch (IOException) when (started.Elapsed < RemovalBudget)
                {
                    CommandCgroup.KillAll(_mode, group);
                    await Task.Delay(Math.Min(25 << Math.Min(attempt, 4), 400)).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>How long removing a deleted box's groups may keep retrying.</summary>
    internal static readonly TimeSpan RemovalBudget = TimeSpan.FromSeconds(30);
}

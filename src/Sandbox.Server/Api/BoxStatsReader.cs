using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>
/// Reads a running box's resource use from the kernel: the cgroups its init belongs to (<c>/proc/INIT/cgroup</c>,
/// resolved against the host's cgroup mounts; v1 and v2) and its filesystem (statfs of the box root when it has its own
/// disk, else the size of its writable layer).
/// </summary>
internal static partial class BoxStatsReader
{
    private const int MaxWalkedEntries = 200_000;
    private static readonly TimeSpan LayerSizeCacheTime = TimeSpan.FromSeconds(10);
    private static readonly ConcurrentDictionary<string, (DateTimeOffset At, long Bytes)> LayerSizes = new(StringComparer.Ordinal);

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct StatVfs
    {
        public ulong Bsize;
        public ulong Frsize;
        public ulong Blocks;
        public ulong Bfree;
        public ulong Bavail;
        public ulong Files;
        public ulong Ffree;
        public ulong Favail;
        public ulong Fsid;
        public ulong Flag;
        public ulong Namemax;
        public fixed int Spare[6];
    }

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeStatVfs(string path, out StatVfs result);

    public static BoxStats Read(Box box, BoxManager boxes)
    {
        var record = box.Record;
        var now = boxes.Time.GetUtcNow();
        var stats = new BoxStats
        {
            Id = box.Id,
            Name = box.Name,
            Status = record.Status,
            SampledAt = Timestamps.Format(now),
            Vcpus = record.Vcpus,
            MemoryLimitBytes = record.MemBytes,
            DiskCapacityBytes = record.FsCapacityBytes,
        };
        if (box.Running is not { HasExited: false } running)
        {
            return stats;
        }

        var groups = CgroupPaths(running.InitPid);
        stats = stats with
        {
            Running = true,
            CpuUsageNanoseconds = CpuNanoseconds(groups),
            MemoryBytes = MemoryBytes(groups),
            MemoryLimitBytes = MemoryLimit(groups) ?? record.MemBytes,
            Pids = ReadLong(groups, "pids", "pids.current"),
            PidsLimit = ReadLong(groups, "pids", "pids.max"),
            Commands = running.Commands.Running.Count,
        };

        if (record.FsCapacityBytes is not null && NativeStatVfs($"/proc/{running.InitPid.ToString(CultureInfo.InvariantCulture)}/root/", out var vfs) == 0)
        {
            ulong unit = vfs.Frsize != 0 ? vfs.Frsize : vfs.Bsize;
            stats = stats with { DiskUsedBytes = (long)((vfs.Blocks - vfs.Bfree) * unit), DiskCapacityBytes = (long)(vfs.Blocks * unit) };
        }
        else
        {
            stats = stats with { DiskUsedBytes = LayerSize(box.Id, boxes.UpperLayersPath(box, running), now) };
        }

        return stats;
    }

    /// <summary>controller name → cgroup directory of the process (v2: key "" for the unified hierarchy).</summary>
    internal static Dictionary<string, string> CgroupPaths(int pid)
    {
        var mounts = CgroupMounts();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cgroup");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return result;
        }

        foreach (string line in lines)
        {
            string[] parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }

            string relative = parts[2].TrimStart('/');
            if (parts[1].Length == 0)
            {
                if (mounts.TryGetValue("", out string? unified))
                {
                    result[""] = Path.Combine(unified, relative);
                }

                continue;
            }

            foreach (string controller in parts[1].Split(','))
            {
                if (mounts.TryGetValue(controller, out string? mount))
                {
                    result[controller] = Path.Combine(mount, relative);
                }
            }
        }

        return result;
    }

    /// <summary>controller → mount point from <c>/proc/self/mountinfo</c> (cgroup v1), "" → the cgroup2 mount.</summary>
    private static Dictionary<string, string> CgroupMounts()
    {
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            int dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0)
            {
                continue;
            }

            string[] head = line[..dash].Split(' ');
            string[] tail = line[(dash + 3)..].Split(' ');
            if (head.Length < 5 || tail.Length < 3)
            {
                continue;
            }

            string mountPoint = head[4].Replace("\\040", " ", StringComparison.Ordinal);
            if (tail[0] == "cgroup2")
            {
                mounts.TryAdd("", mountPoint);
            }
            else if (tail[0] == "cgroup")
            {
                foreach (string option in tail[2].Split(','))
                {
                    mounts.TryAdd(option, mountPoint);
                }
            }
        }

        return mounts;
    }

    private static long? CpuNanoseconds(Dictionary<string, string> groups)
    {
        if (ReadLong(groups, "cpuacct", "cpuacct.usage") is { } v1)
        {
            return v1;
        }

        return StatField(groups, "cpu.stat", "usage_usec") is { } usec ? usec * 1000 : null;
    }

    private static long? MemoryBytes(Dictionary<string, string> groups)
    {
        if (ReadLong(groups, "memory", "memory.usage_in_bytes") is { } v1)
        {
            // As `docker stats` does: page cache that can be reclaimed at once is not "used".
            long inactive = StatField(groups, "memory.stat", "total_inactive_file") ?? 0;
            return Math.Max(0, v1 - inactive);
        }

        if (ReadLong(groups, "memory", "memory.current") is { } v2)
        {
            long inactive = StatField(groups, "memory.stat", "inactive_file") ?? 0;
            return Math.Max(0, v2 - inactive);
        }

        return null;
    }

    private static long? MemoryLimit(Dictionary<string, string> groups)
    {
        long? limit = ReadLong(groups, "memory", "memory.limit_in_bytes") ?? ReadLong(groups, "memory", "memory.max");
        // v1 reports "no limit" as a huge page-aligned number.
        return limit is > 0 and < long.MaxValue / 2 ? limit : null;
    }

    private static string? Group(Dictionary<string, string> groups, string controller) =>
        groups.TryGetValue(controller, out string? g) ? g : groups.GetValueOrDefault("");

    private static long? ReadLong(Dictionary<string, string> groups, string controller, string file)
    {
        if (Group(groups, controller) is not { } dir)
        {
            return null;
        }

        try
        {
            string text = File.ReadAllText(Path.Combine(dir, file)).Trim();
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? StatField(Dictionary<string, string> groups, string file, string key)
    {
        string controller = file.StartsWith("memory", StringComparison.Ordinal) ? "memory" : "cpu";
        if (Group(groups, controller) is not { } dir)
        {
            return null;
        }

        try
        {
            foreach (string line in File.ReadLines(Path.Combine(dir, file)))
            {
                if (line.StartsWith(key + " ", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(key.Length + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
                {
                    return value;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>Bytes of the files in the box's writable layer (cached briefly; walking is not free).</summary>
    private static long? LayerSize(string boxId, string upper, DateTimeOffset now)
    {
        if (LayerSizes.TryGetValue(boxId, out var cached) && now - cached.At < LayerSizeCacheTime)
        {
            return cached.Bytes;
        }

        if (!Directory.Exists(upper))
        {
            return null;
        }

        long total = 0;
        int entries = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        try
        {
            foreach (var file in new DirectoryInfo(upper).EnumerateFiles("*", options))
            {
                if (++entries > MaxWalkedEntries)
                {
                    break;
                }

                total += file.Length;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        if (LayerSizes.Count > 1024)
        {
            LayerSizes.Clear();
        }

        LayerSizes[boxId] = (now, total);
        return total;
    }
}

/// <summary>Body of <c>GET {dp}/stats</c> (local-server extension).</summary>
internal sealed record BoxStats
{
    public string Id { get; init; } = "";

    public string Name { get; init; } = "";

    public string Status { get; init; } = "";

    public bool Running { get; init; }

    public string? SampledAt { get; init; }

    /// <summary>Total CPU time of every process of the box since it started (the UI derives a percentage from two samples).</summary>
    public long? CpuUsageNanoseconds { get; init; }

    public int Vcpus { get; init; }

    public long? MemoryBytes { get; init; }

    public long? MemoryLimitBytes { get; init; }

    public long? Pids { get; init; }

    public long? PidsLimit { get; init; }

    public long? DiskUsedBytes { get; init; }

    public long? DiskCapacityBytes { get; init; }

    public int Commands { get; init; }
}

using System.Runtime.InteropServices;
using Sandbox.Server.Files;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// The uploaded build context: a directory inside the builder sandbox, read through that sandbox's rooted file system
/// (every open resolved by the kernel inside the sandbox's root, so nothing the sandbox does reaches host files), and
/// copied into the build sandbox the same way. COPY/ADD sources are resolved inside the context: <c>..</c> above it, an
/// absolute symlink, or a symlink whose target leaves the context is refused with a typed error.
/// </summary>
internal sealed class BuildContext
{
    private const ulong InRoot = LibC.RESOLVE_IN_ROOT | LibC.RESOLVE_NO_MAGICLINKS;

    /// <summary>Most entries one COPY may copy.</summary>
    private const long MaxEntries = 200_000;

    private readonly RootedFileSystem _files;
    private readonly string _root;

    public BuildContext(RootedFileSystem builderFiles, string contextDirectory)
    {
        _files = builderFiles;
        _root = "/" + contextDirectory.Trim('/');
    }

    /// <summary>The sources of a COPY/ADD word: a path inside the context, or a pattern with <c>*</c>/<c>?</c> in its last part.</summary>
    public List<(string Path, string Name)> Sources(string source, DockerfileInstruction at)
    {
        string normalized = NormalizeInside(source, at);
        int slash = normalized.LastIndexOf('/');
        string last = slash < 0 ? normalized : normalized[(slash + 1)..];
        if (last.IndexOfAny(['*', '?', '[']) < 0)
        {
            return [(Resolve(normalized, source, at), last.Length == 0 ? "." : last)];
        }

        string parent = slash < 0 ? "" : normalized[..slash];
        string dir = Resolve(parent, source, at);
        var pattern = new GlobPattern(last);
        using var handle = _files.OpenDirectory(dir);
        var matches = new List<(string, string)>();
        foreach (var (name, _) in LibC.ListDirectory((int)handle.DangerousGetHandle(), 100_000).OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (pattern.IsMatch(name))
            {
                string relative = parent.Length == 0 ? name : parent + "/" + name;
                matches.Add((Resolve(relative, source, at), name));
            }
        }

        if (matches.Count == 0)
        {
            throw new DockerfileBuildException(DockerfileBuildError.NotFound, $"line {at.Line}: {at.Keyword} source '{source}' matches nothing in the build context");
        }

        return matches;
    }

    /// <summary>Whether a source is a local tar archive (plain, gzip, bzip2 or xz) that ADD unpacks.</summary>
    public bool LooksLikeArchive(string path)
    {
        try
        {
            if (!_files.Stat(path).IsRegularFile)
            {
                return false;
            }

            using var handle = _files.OpenRead(path, out _);
            byte[] head = new byte[512];
            int read = RandomAccess.Read(handle, head, 0);
            return (read >= 2 && head[0] == 0x1f && head[1] == 0x8b)
                || (read >= 3 && head[0] == (byte)'B' && head[1] == (byte)'Z' && head[2] == (byte)'h')
                || (read >= 6 && head.AsSpan(0, 6).SequenceEqual(new byte[] { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00 }))
                || (read >= 262 && head.AsSpan(257, 5).SequenceEqual("ustar"u8));
        }
        catch (BoxFileException)
        {
            return false;
        }
    }

    /// <summary>Reads the Dockerfile (a regular file inside the builder sandbox).</summary>
    public static string ReadText(RootedFileSystem files, string path)
    {
        try
        {
            using var handle = files.OpenRead(path, out var status);
            if (status.Size > DockerfileParser.MaxBytes)
            {
                throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"The Dockerfile '{path}' is larger than {DockerfileParser.MaxBytes} bytes");
            }

            using var stream = new FileStream(handle, FileAccess.Read);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (BoxFileException e)
        {
            throw new DockerfileBuildException(DockerfileBuildError.NotFound, $"The Dockerfile '{path}' could not be read in the builder sandbox: {e.Message}", e);
        }
    }

    /// <summary>Lexically normalises a source path relative to the context; <c>..</c> above the context is refused.</summary>
    private static string NormalizeInside(string source, DockerfileInstruction at)
    {
        var parts = new List<string>();
        foreach (string part in source.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count == 0)
                {
                    throw new DockerfileBuildException(DockerfileBuildError.ContextEscape,
                        $"line {at.Line}: {at.Keyword} source '{source}' is outside the build context");
                }

                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    /// <summary>
    /// Follows the path component by component inside the context (each step opened inside the builder's root): a
    /// symlink is followed only when its target stays in the context. Returns the absolute in-sandbox path.
    /// </summary>
    private string Resolve(string relative, string source, DockerfileInstruction at)
    {
        var pending = new Queue<string>(relative.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var resolved = new List<string>();
        int hops = 0;
        while (pending.Count > 0)
        {
            string part = pending.Dequeue();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (resolved.Count == 0)
                {
                    throw Escape(source, at, "a symlink in it points above the build context");
                }

                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            string parentPath = _root + (resolved.Count == 0 ? "" : "/" + string.Join('/', resolved));
            int parentFd = LibC.OpenAt2(_files.RootFd, RootedFileSystem.Relative(parentPath), LibC.O_PATH | LibC.O_DIRECTORY, 0, InRoot);
            if (parentFd < 0)
            {
                _ = Marshal.GetLastPInvokeError();
                throw NotFound(source, at);
            }

            try
            {
                if (LibC.Statx(parentFd, part, LibC.AT_SYMLINK_NOFOLLOW, out var status) != 0)
                {
                    throw NotFound(source, at);
                }

                if (!status.IsSymlink)
                {
                    resolved.Add(part);
                    continue;
                }

                if (++hops > 40)
                {
                    throw new DockerfileBuildException(DockerfileBuildError.NotFound, $"line {at.Line}: {at.Keyword} source '{source}': too many levels of symbolic links");
                }

                string target = LibC.ReadLinkAt(parentFd, part) ?? throw NotFound(source, at);
                if (target.StartsWith('/'))
                {
                    throw Escape(source, at, $"'{part}' is a symlink to the absolute path '{target}'");
                }

                var rest = pending.ToList();
                pending = new Queue<string>(target.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest));
            }
            finally
            {
                LibC.Close(parentFd);
            }
        }

        return _root + (resolved.Count == 0 ? "" : "/" + string.Join('/', resolved));
    }

    private static DockerfileBuildException NotFound(string source, DockerfileInstruction at) =>
        new(DockerfileBuildError.NotFound, $"line {at.Line}: {at.Keyword} source '{source}' not found in the build context");

    private static DockerfileBuildException Escape(string source, DockerfileInstruction at, string why) =>
        new(DockerfileBuildError.ContextEscape, $"line {at.Line}: {at.Keyword} source '{source}' is outside the build context ({why})");

    /// <summary>
    /// Copies <paramref name="source"/> (a file, or a directory's contents) to <paramref name="destination"/> in the build
    /// sandbox. Nested symlinks are copied as symlinks (as Docker does); FIFOs, sockets and devices are skipped.
    /// Returns the number of entries written.
    /// </summary>
    public long Copy(string source, RootedFileSystem target, string destination, bool destinationIsDirectory, string name, (int Uid, int Gid)? owner, uint? mode, CancellationToken cancellationToken)
    {
        var status = _files.Stat(source);
        if (!status.IsDirectory)
        {
            string file = destinationIsDirectory ? destination.TrimEnd('/') + "/" + name : destination;
            using var input = _files.OpenRead(source, out var st);
            WriteFile(input, st, target, file, owner, mode, cancellationToken);
            return 1;
        }

        long count = 0;
        target.CreateDirectories(destination);
        ApplyOwner(target, destination, owner, null);
        using var dir = _files.OpenDirectory(source);
        BoxFileWalker.Walk(dir, source, int.MaxValue, new BoxFileWalker.Limits(256, MaxEntries), entry =>
        {
            string to = destination.TrimEnd('/') + "/" + entry.RelativePath;
            if (entry.Status.IsDirectory)
            {
                target.CreateDirectories(to, mode ?? (uint)(entry.Status.Mode & 0xFFF));
                ApplyOwner(target, to, owner, null);
            }
            else if (entry.Status.IsSymlink)
            {
                if (LibC.ReadLinkAt(entry.ParentFd, entry.Name) is { } link)
                {
                    target.CreateSymlink(to, link);
                    ApplyOwner(target, to, owner, null);
                }
            }
            else if (entry.Status.IsRegularFile && BoxFileWalker.OpenFile(entry) is { } input)
            {
                using (input)
                {
                    WriteFile(input, entry.Status, target, to, owner, mode, cancellationToken);
                }
            }
            else
            {
                return true;
            }

            count++;
            return true;
        }, cancellationToken);
        return count;
    }

    private static void WriteFile(Microsoft.Win32.SafeHandles.SafeFileHandle input, FileStatus status, RootedFileSystem target, string path, (int Uid, int Gid)? owner, uint? mode, CancellationToken cancellationToken)
    {
        uint permissions = mode ?? (uint)(status.Mode & 0xFFF);
        using (var output = target.Create(path, permissions))
        {
            using var from = new FileStream(input, FileAccess.Read, 1, false);
            using var to = new FileStream(output, FileAccess.Write, 1, false);
            from.CopyTo(to, 1 << 20);
            to.Flush();
            LibC.Fchmod((int)output.DangerousGetHandle(), permissions);
        }

        cancellationToken.ThrowIfCancellationRequested();
        ApplyOwner(target, path, owner, status.Modified);
    }

    private static void ApplyOwner(RootedFileSystem target, string path, (int Uid, int Gid)? owner, DateTimeOffset? modified)
    {
        var (uid, gid) = owner ?? (0, 0);
        target.SetOwnerAndTime(path, uid, gid, modified);
    }
}

namespace Sandbox.Server.Files;

/// <summary>The fields of statx(2) the server uses.</summary>
internal readonly record struct FileStatus(ushort Mode, uint Uid, uint Gid, ulong Inode, long Size, long ModifiedSeconds, uint ModifiedNanoseconds)
{
    private const int TypeMask = 0xF000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    public bool IsSymlink => (Mode & TypeMask) == 0xA000;

    public DateTimeOffset Modified => DateTimeOffset.FromUnixTimeSeconds(ModifiedSeconds).AddTicks(ModifiedNanoseconds / 100);

    /// <summary>A strong validator that changes whenever the file is replaced or modified.</summary>
    public string ETag => $"\"{Inode:x}-{Size:x}-{ModifiedSeconds:x}{ModifiedNanoseconds:x8}\"";
}

using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Runtime;

/// <summary>A box's disk image is a sparse copy of a template: same bytes, holes stay holes.</summary>
public sealed class SparseFileCopyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sandbox-sparse-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Copy_KeepsEveryByte_AndTheHoles()
    {
        string source = Path.Combine(_dir, "source"), copy = Path.Combine(_dir, "copy");
        const long length = 1L << 30;
        var blocks = new[] { 0L, 5L << 20, (512L << 20) + 123, length - 4096 };
        using (var file = File.OpenHandle(source, FileMode.CreateNew, FileAccess.Write))
        {
            RandomAccess.SetLength(file, length);
            foreach (long at in blocks)
            {
                RandomAccess.Write(file, Enumerable.Range(0, 4096).Select(i => (byte)((i + at) % 251)).ToArray(), at);
            }
        }

        SparseFileCopy.Copy(source, copy);

        Assert.Equal(length, new FileInfo(copy).Length);
        using var a = File.OpenHandle(source);
        using var b = File.OpenHandle(copy);
        var left = new byte[8192];
        var right = new byte[8192];
        foreach (long at in blocks.Append(1L << 20).Append(700L << 20))
        {
            RandomAccess.Read(a, left, at);
            RandomAccess.Read(b, right, at);
            Assert.Equal(left, right);
        }

        // Holes are not written: the copy occupies about what the source does, far below its length.
        Assert.True(AllocatedBytes(copy) <= AllocatedBytes(source) + (1 << 20), $"copy allocates {AllocatedBytes(copy)} bytes, source {AllocatedBytes(source)}");
        Assert.True(AllocatedBytes(copy) < 16L << 20);
        Assert.Throws<IOException>(() => SparseFileCopy.Copy(source, copy)); // never overwrites
    }

    private static long AllocatedBytes(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%b %B", path]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(psi)!;
        string[] parts = process.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.TrimEntries);
        process.WaitForExit();
        return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}

using Sandbox.Server.Api;
using Sandbox.Server.Files;

namespace Sandbox.Server.Tests.Files;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("*", "a.py", true)]
    [InlineData("*", "src/a.py", false)]
    [InlineData("**/*.py", "a.py", true)]
    [InlineData("**/*.py", "src/deep/a.py", true)]
    [InlineData("**/*.py", "src/a.pyc", false)]
    [InlineData("src/**/*.py", "src/a.py", true)]
    [InlineData("src/**/*.py", "lib/a.py", false)]
    [InlineData("file?.[ch]", "file1.c", true)]
    [InlineData("file?.[!ch]", "file1.c", false)]
    [InlineData("a+b(c).txt", "a+b(c).txt", true)]
    public void Matches(string pattern, string path, bool expected) => Assert.Equal(expected, new GlobPattern(pattern).IsMatch(path));

    [Theory]
    [InlineData("bytes=0-9", 100, 0, 9, false)]
    [InlineData("bytes=90-", 100, 90, 99, false)]
    [InlineData("bytes=-10", 100, 90, 99, false)]
    [InlineData("bytes=50-500", 100, 50, 99, false)]
    [InlineData("bytes=100-", 100, 100, 99, true)]
    public void Ranges(string header, long size, long start, long end, bool unsatisfiable)
    {
        Assert.True(FileEndpoints.TryParseRange(header, size, out long s, out long e, out bool u));
        Assert.Equal(unsatisfiable, u);
        if (!u)
        {
            Assert.Equal((start, end), (s, e));
        }
    }

    [Theory]
    [InlineData("bytes=5-1")]
    [InlineData("bytes=0-1,4-5")]
    [InlineData("items=0-1")]
    public void InvalidRanges_AreIgnored(string header) => Assert.False(FileEndpoints.TryParseRange(header, 100, out _, out _, out _));
}

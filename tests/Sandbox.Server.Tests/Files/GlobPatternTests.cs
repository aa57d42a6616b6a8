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

}

namespace Sandbox.AgentTools.Tests;

public sealed class WorkspacePathPolicyTests
{
    private readonly WorkspacePathPolicy _policy = new("/home/user");

    [Theory]
    [InlineData("notes.txt", "/home/user/notes.txt")]
    [InlineData("./a/b/../c.txt", "/home/user/a/c.txt")]
    [InlineData("/home/user/data/x.csv", "/home/user/data/x.csv")]
    [InlineData("a//b///c", "/home/user/a/b/c")]
    public void Resolve_PathsInsideTheWorkspace_AreNormalized(string input, string expected) =>
        Assert.Equal(expected, _policy.Resolve(input));

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("/home/username/x")]
    [InlineData("/home/user/../root/.ssh/id_rsa")]
    public void Resolve_EscapesFromTheWorkspace_AreRefused(string input)
    {
        ToolArgumentException error = Assert.Throws<ToolArgumentException>(() => _policy.Resolve(input));
        Assert.Equal("path_outside_workspace", error.ErrorType);
        Assert.Contains("/home/user", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NulCharacters_AreRefused() =>
        Assert.Equal("invalid_path", Assert.Throws<ToolArgumentException>(() => _policy.Resolve("a\0b")).ErrorType);

    [Fact]
    public void Resolve_EmptyPath_IsTheRootOnlyWhereAllowed()
    {
        Assert.Equal("/home/user", _policy.Resolve(null, allowRoot: true));
        Assert.Throws<ToolArgumentException>(() => _policy.Resolve(""));
        Assert.Throws<ToolArgumentException>(() => _policy.Resolve("."));
    }

    [Fact]
    public void ToRelative_ShowsPathsFromTheRoot()
    {
        Assert.Equal("a/b.txt", _policy.ToRelative("/home/user/a/b.txt"));
        Assert.Equal(".", _policy.ToRelative("/home/user"));
    }
}

namespace Sandbox.Client.Tests.Configuration;

public sealed class ExceptionTests
{
    [Fact]
    public void Exceptions_CarrySpecAttributesAndMessageSuffixes()
    {
        // Scenario 93
        var timeout = new ResourceTimeoutException("not ready", "sandbox", "provisioning");
        Assert.Equal("not ready (last_status: provisioning)", timeout.Message);
        Assert.Equal("not ready", new ResourceTimeoutException("not ready").Message);
        Assert.Equal("bad [ImagePull]", new ResourceCreationException("bad", "sandbox", "ImagePull").Message);
        Assert.Equal("oops [CommandNotFound]", new SandboxOperationException("oops", "reconnect", "CommandNotFound").Message);
        var command = new CommandTimeoutException("took too long", TimeSpan.FromSeconds(5));
        Assert.Equal("command", command.Operation);
        Assert.Equal("CommandTimeout", command.ErrorType);
        Assert.IsAssignableFrom<SandboxConnectionException>(new SandboxServerReloadException("reload"));
        Assert.IsAssignableFrom<SandboxRetryableConnectionException>(new SandboxConnectTimeoutException("t"));
        Exception[] all =
        [
            new SandboxApiException("x"), new SandboxAuthenticationException("x"), new ResourceNotFoundException("x"),
            new ResourceNameConflictException("x"), new SandboxValidationException("x"), new QuotaExceededException("x"),
            new DataplaneNotConfiguredException("x"), new SandboxNotReadyException("x"), new TunnelException("x"), command, timeout,
        ];
        Assert.All(all, e => Assert.IsAssignableFrom<SandboxException>(e));
        Assert.True(new SandboxConnectTimeoutException("t").IsTransient);
        Assert.False(new SandboxAuthenticationException("x").IsTransient);
    }

    [Theory]
    [InlineData("Sandbox count limit reached", "sandbox_count")]
    [InlineData("CPU quota exceeded", "cpu")]
    [InlineData("Memory quota exceeded", "memory")]
    [InlineData("Storage quota exceeded", "storage")]
    [InlineData("Too many requests", null)]
    public void QuotaType_IsDerivedFromMessage(string message, string? expected) =>
        Assert.Equal(expected, ErrorMapper.QuotaType(message));
}

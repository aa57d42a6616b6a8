namespace Sandbox.Protocol;

/// <summary>Body of registry create (all of name, url, username, password) and update (any of them).</summary>
public sealed record RegistryRequest
{
    /// <summary>Name (or new name on update).</summary>
    public string? Name { get; init; }

    /// <summary>Registry URL.</summary>
    public string? Url { get; init; }

    /// <summary>User name (write-only).</summary>
    public string? Username { get; init; }

    /// <summary>Password (write-only).</summary>
    public string? Password { get; init; }

    /// <summary><c>DOCKER_CONFIG</c> or <c>AWS_ROLE</c> (delta §4.7); username/password optional for the latter.</summary>
    public string? AuthType { get; init; }

    /// <summary>IAM role assumed to pull from ECR when <see cref="AuthType"/> is <c>AWS_ROLE</c>.</summary>
    public string? AwsRoleArn { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"RegistryRequest {{ Name = {Name}, Url = {Url}, Username = {Username}, Password = <redacted> }}";
}

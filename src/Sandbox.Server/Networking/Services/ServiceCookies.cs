namespace Sandbox.Server.Networking.Services;

/// <summary>Names of the cookies the service router sets; they are never forwarded into the box.</summary>
internal static class ServiceCookies
{
    /// <summary>Holds a service token after <c>/_svc/auth</c>.</summary>
    public const string TokenCookie = "langsmith_sandbox_svc";

    /// <summary>Holds a login session after <c>/_svc/login</c> (login-grant URLs).</summary>
    public const string LoginCookie = "langsmith_sandbox_login";
}

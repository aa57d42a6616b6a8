namespace Sandbox.Client;

/// <summary>Names of the service-URL identity headers (delta §7.1).</summary>
public static class SandboxIdentityHeaders
{
    /// <summary>Token-mode credential sent by a caller to the sandbox router (JS <c>SERVICE_TOKEN_HEADER</c>).</summary>
    public const string ServiceToken = "X-Langsmith-Sandbox-Service-Token";

    /// <summary>JWT identifying the LangSmith user, set by the router for LangSmith-login service URLs (JS
    /// <c>USER_TOKEN_HEADER</c>); verify it with <see cref="SandboxTokenVerifier.VerifyUserTokenAsync"/>.</summary>
    public const string UserToken = "X-Langsmith-User-Token";

    /// <summary>Signature of a proxy-callback request (JS <c>CALLBACK_SIGNATURE_HEADER</c>). These are EdDSA-signed,
    /// which <see cref="SandboxTokenVerifier"/> cannot verify on .NET 10.</summary>
    public const string CallbackSignature = "X-LangSmith-Signature-JWT";
}

namespace Sandbox.AgentTools;

/// <summary>What <c>expose_port</c> tells the model.</summary>
internal sealed record ExposePortResult(int Port, string ServiceUrl, string? BrowserUrl, string? ExpiresAt, int HttpStatus, double WaitedMs, string Note);

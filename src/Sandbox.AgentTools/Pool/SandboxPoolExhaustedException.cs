using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>
/// A lease could not be obtained within <see cref="SandboxPoolOptions.AcquireTimeout"/>. The message names the
/// settings to raise. Transient: retrying later can succeed.
/// </summary>
public sealed class SandboxPoolExhaustedException : SandboxException
{
    /// <summary>Creates the exception with a message.</summary>
    public SandboxPoolExhaustedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public SandboxPoolExhaustedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public SandboxPoolExhaustedException()
        : base("No sandbox became available in time.")
    {
    }

    /// <inheritdoc />
    public override bool IsTransient => true;
}

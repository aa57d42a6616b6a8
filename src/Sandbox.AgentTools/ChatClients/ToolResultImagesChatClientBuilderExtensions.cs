using Sandbox.AgentTools;

namespace Microsoft.Extensions.AI;

/// <summary>Adds <see cref="ToolResultImagesChatClient"/> to a chat client pipeline.</summary>
public static class ToolResultImagesChatClientBuilderExtensions
{
    /// <summary>
    /// Moves images returned by tools into a user message of image parts after the tool messages. Add it after
    /// <c>UseFunctionInvocation()</c> (so it sits between the function-invoking client and the provider).
    /// </summary>
    /// <param name="builder">The chat client builder.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseToolResultImages(this ChatClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use(static inner => new ToolResultImagesChatClient(inner));
    }
}

using Microsoft.Extensions.Logging;

namespace Sandbox.AgentTools;

/// <summary>Hands one call's output to <see cref="SandboxToolOptions.OnOutput"/>; a failing callback never fails the call.</summary>
internal sealed class OutputForwarder(Action<ToolOutputChunk> callback, string conversationId, string? toolCallId, string language, ILogger logger)
{
    private readonly Action<ToolOutputChunk> _callback = callback;
    private readonly string _conversationId = conversationId;
    private readonly string? _toolCallId = toolCallId;
    private readonly string _language = language;
    private readonly ILogger _logger = logger;

    public void Forward(ToolOutputStream stream, string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        try
        {
            _callback(new ToolOutputChunk(_conversationId, _toolCallId, _language, stream, text));
        }
#pragma warning disable CA1031 // The host's callback may throw anything; the tool call must go on regardless.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.OutputCallbackFailed(_logger, ex, _language);
        }
    }
}

namespace Sandbox.AgentTools;

/// <summary>Languages <c>run_code</c> accepts.</summary>
internal enum CodeLanguage
{
    Python,
    JavaScript,
    Bash,
}

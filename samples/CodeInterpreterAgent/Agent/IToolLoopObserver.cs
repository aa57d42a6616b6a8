namespace CodeInterpreterAgent.Agent;

/// <summary>What the loop reports while it runs.</summary>
internal interface IToolLoopObserver
{
    void AssistantText(string text);

    void ToolStarting(ToolCallRecord call);

    void ToolFinished(ToolCallRecord call);
}

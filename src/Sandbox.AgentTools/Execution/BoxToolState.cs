namespace Sandbox.AgentTools;

/// <summary>What the tools keep per box: its interpreters, whether their drivers are uploaded, the last workspace snapshot.</summary>
/// <remarks>Used only under the conversation's lease, so one call at a time.</remarks>
internal sealed class BoxToolState : IAsyncDisposable
{
    private readonly HashSet<CodeLanguage> _driversUploaded = [];
    private readonly Dictionary<CodeLanguage, InterpreterSession> _sessions = [];

    /// <summary>Snapshot taken after the previous call; the next call's "before". Null after a write_file or when unknown.</summary>
    public WorkspaceSnapshot? LastSnapshot { get; set; }

    /// <summary>The previous box of the conversation was lost; reported on the first call on this box.</summary>
    public bool SandboxLossReported { get; set; }

    public bool IsDriverUploaded(CodeLanguage language) => _driversUploaded.Contains(language);

    public void MarkDriverUploaded(CodeLanguage language) => _driversUploaded.Add(language);

    public InterpreterSession? GetSession(CodeLanguage language) => _sessions.GetValueOrDefault(language);

    public void SetSession(CodeLanguage language, InterpreterSession? session)
    {
        if (session is null)
        {
            _sessions.Remove(language);
        }
        else
        {
            _sessions[language] = session;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (InterpreterSession session in _sessions.Values)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _sessions.Clear();
    }
}

using Microsoft.Extensions.AI;

namespace CodeInterpreterAgent.Agent;

/// <summary>
/// Records each tool call the framework makes (what was asked, how long it took, what came back) and reports it to the
/// console; hooked into <see cref="FunctionInvokingChatClient.FunctionInvoker"/>, so the framework still runs the call.
/// </summary>
internal sealed class ToolCallTracker(IToolLoopObserver observer, TimeProvider time)
{
    private readonly Lock _gate = new();

    /// <summary>Every tool call made so far, in order.</summary>
    public List<ToolCallRecord> Calls { get; } = [];

    /// <summary>The <see cref="FunctionInvokingChatClient.FunctionInvoker"/>: records the call around the real invocation.</summary>
    public ValueTask<object?> InvokeAsync(FunctionInvocationContext context, CancellationToken cancellationToken) =>
        TrackAsync(context.CallContent.CallId, context.Function.Name, context.Arguments,
            () => context.Function.InvokeAsync(context.Arguments, cancellationToken), cancellationToken);

    /// <summary>Records one call around <paramref name="invoke"/>, which runs it (any framework) and returns its result.</summary>
    public async ValueTask<object?> TrackAsync(string callId, string name, IEnumerable<KeyValuePair<string, object?>> arguments,
        Func<ValueTask<object?>> invoke, CancellationToken cancellationToken)
    {
        ToolCallRecord record;
        lock (_gate)
        {
            record = new ToolCallRecord(Calls.Count + 1, callId, name, new Dictionary<string, object?>(arguments, StringComparer.Ordinal));
            Calls.Add(record);
        }

        observer.ToolStarting(record);
        long started = time.GetTimestamp();
        try
        {
            object? result = await invoke();
            record.Result = result;
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The framework reports the exception to the model as the call's result; the console shows it as a failure.
            record.Failed = true;
            record.Result = $"Error: the tool '{name}' failed: {ex.Message}";
            throw;
        }
        finally
        {
            record.Duration = time.GetElapsedTime(started);
            observer.ToolFinished(record);
        }
    }
}

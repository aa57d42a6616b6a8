using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>
/// One request made through <see cref="ToolResultImagesChatCompletionService"/>: the caller's <see cref="ChatHistory"/> (the
/// conversation) and the images taken out of this request's tool results, waiting to be added as a user message after the
/// round's tool messages. It flows to <see cref="SandboxKernelFilter"/> through the async context, so it does not depend on
/// which <see cref="ChatHistory"/> object Semantic Kernel hands the filter: the OpenAI connector hands it the caller's, the
/// <c>IChatClient</c> bridge (<c>AsChatCompletionService()</c> over <c>UseKernelFunctionInvocation()</c>) a new copy per call.
/// </summary>
internal sealed class KernelRequestScope(ChatHistory history)
{
    private static readonly AsyncLocal<KernelRequestScope?> CurrentScope = new();
    private readonly List<KernelContent> _items = [];
    private readonly Lock _lock = new();
    private bool _terminated;

    /// <summary>The request running in this async context, if it goes through <see cref="ToolResultImagesChatCompletionService"/>.</summary>
    public static KernelRequestScope? Current => CurrentScope.Value;

    /// <summary>The caller's chat history: the conversation of every call made during the request.</summary>
    public ChatHistory History { get; } = history;

    /// <summary>Runs the code that follows (until disposed) as part of this request.</summary>
    public IDisposable Enter()
    {
        KernelRequestScope? previous = CurrentScope.Value;
        CurrentScope.Value = this;
        return new Restore(previous);
    }

    public bool HasImages
    {
        get
        {
            lock (_lock)
            {
                return _items.Count > 0;
            }
        }
    }

    public void Add(string toolName, string? callId, IEnumerable<ImageContent> images)
    {
        List<ImageContent> list = [.. images];
        lock (_lock)
        {
            _items.Add(new TextContent($"{(list.Count == 1 ? "1 image" : list.Count + " images")} returned by the {toolName} call {callId}:"));
            _items.AddRange(list);
        }
    }

    /// <summary>Marks that the filter ended the auto-invocation round so the images can be added before the next model call.</summary>
    public void MarkTerminated()
    {
        lock (_lock)
        {
            _terminated = true;
        }
    }

    /// <summary>True between the filter ending a round for images and the images being taken.</summary>
    public bool IsTerminated
    {
        get
        {
            lock (_lock)
            {
                return _terminated;
            }
        }
    }

    /// <summary>The user message of image parts when the filter ended the round for them (and empties the list); else null.</summary>
    public ChatMessageContent? TakeIfTerminated()
    {
        lock (_lock)
        {
            if (!_terminated || _items.Count == 0)
            {
                return null;
            }

            _terminated = false;
            var items = new ChatMessageContentItemCollection();
            foreach (KernelContent item in _items)
            {
                items.Add(item);
            }

            _items.Clear();
            return new ChatMessageContent(AuthorRole.User, items);
        }
    }

    private sealed class Restore(KernelRequestScope? previous) : IDisposable
    {
        public void Dispose() => CurrentScope.Value = previous;
    }
}

using System.Runtime.CompilerServices;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>
/// Images taken out of tool results of one chat history, waiting to be added as a user message after the round's tool
/// messages (by <see cref="ToolResultImagesChatCompletionService"/>).
/// </summary>
internal sealed class PendingImages
{
    private static readonly ConditionalWeakTable<ChatHistory, PendingImages> Table = new();
    private static readonly AsyncLocal<ChatHistory?> ActiveHistory = new();
    private readonly List<KernelContent> _items = [];
    private readonly Lock _lock = new();

    /// <summary>Set when the filter ended the auto-invocation round so the images can be added before the next request.</summary>
    public bool Terminated { get; set; }

    public static PendingImages For(ChatHistory history) => Table.GetOrCreateValue(history);

    public static PendingImages? Find(ChatHistory history) => Table.TryGetValue(history, out PendingImages? pending) ? pending : null;

    /// <summary>True while <see cref="ToolResultImagesChatCompletionService"/> runs a request on this history (it will add the images).</summary>
    public static bool IsDeliveredFor(ChatHistory history) => ReferenceEquals(ActiveHistory.Value, history);

    public static IDisposable Deliver(ChatHistory history)
    {
        ChatHistory? previous = ActiveHistory.Value;
        ActiveHistory.Value = history;
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

    /// <summary>The user message of image parts, and empties the list.</summary>
    public ChatMessageContent? Take()
    {
        lock (_lock)
        {
            Terminated = false;
            if (_items.Count == 0)
            {
                return null;
            }

            var items = new ChatMessageContentItemCollection();
            foreach (KernelContent item in _items)
            {
                items.Add(item);
            }

            _items.Clear();
            return new ChatMessageContent(AuthorRole.User, items);
        }
    }

    private sealed class Restore(ChatHistory? previous) : IDisposable
    {
        public void Dispose() => ActiveHistory.Value = previous;
    }
}

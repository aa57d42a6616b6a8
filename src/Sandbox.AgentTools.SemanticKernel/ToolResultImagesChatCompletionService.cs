using System.Runtime.CompilerServices;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>
/// Decorates a chat completion service (e.g. the OpenAI connector's) so images returned by the sandbox tools reach the model as
/// image parts: when a round of auto-invoked tool calls produced images, <see cref="SandboxKernelFilter"/> ends the round
/// after the last tool message, this service adds a user message with the images to the chat history and asks the inner
/// service again. The tool messages keep the JSON records only.
/// </summary>
/// <param name="inner">The service to decorate.</param>
public sealed class ToolResultImagesChatCompletionService(IChatCompletionService inner) : IChatCompletionService
{
    private const int MaxImageRounds = 32;

    /// <summary>The decorated service.</summary>
    public IChatCompletionService Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, object?> Attributes => Inner.Attributes;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ChatMessageContent>> GetChatMessageContentsAsync(ChatHistory chatHistory, PromptExecutionSettings? executionSettings = null,
        Kernel? kernel = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        for (int round = 0; ; round++)
        {
            IReadOnlyList<ChatMessageContent> result;
            using (PendingImages.Deliver(chatHistory))
            {
                result = await Inner.GetChatMessageContentsAsync(chatHistory, executionSettings, kernel, cancellationToken).ConfigureAwait(false);
            }

            if (round >= MaxImageRounds || !TryAddImages(chatHistory))
            {
                return result;
            }
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StreamingChatMessageContent> GetStreamingChatMessageContentsAsync(ChatHistory chatHistory,
        PromptExecutionSettings? executionSettings = null, Kernel? kernel = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        for (int round = 0; ; round++)
        {
            // The filter runs inside the inner enumerator's MoveNextAsync: mark the history around each of those calls.
            IAsyncEnumerator<StreamingChatMessageContent> updates = Inner.GetStreamingChatMessageContentsAsync(chatHistory, executionSettings, kernel, cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    bool more;
                    using (PendingImages.Deliver(chatHistory))
                    {
                        more = await updates.MoveNextAsync().ConfigureAwait(false);
                    }

                    if (!more)
                    {
                        break;
                    }

                    yield return updates.Current;
                }
            }
            finally
            {
                await updates.DisposeAsync().ConfigureAwait(false);
            }

            if (round >= MaxImageRounds || !TryAddImages(chatHistory))
            {
                yield break;
            }
        }
    }

    private static bool TryAddImages(ChatHistory chatHistory)
    {
        PendingImages? pending = PendingImages.Find(chatHistory);
        if (pending is not { Terminated: true } || pending.Take() is not { } message)
        {
            return false;
        }

        chatHistory.Add(message);
        return true;
    }
}

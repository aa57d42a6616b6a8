using System.Runtime.CompilerServices;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>
/// Decorates a chat completion service (the OpenAI connector's, or <c>IChatClient.AsChatCompletionService()</c>) so images
/// returned by the sandbox tools reach the model as image parts: when a round of auto-invoked tool calls produced images,
/// <see cref="SandboxKernelFilter"/> ends the round after the last tool message, this service adds a user message with the
/// images to the chat history and asks the inner service again. The tool messages keep the JSON records only. It also tells
/// the filter which <see cref="ChatHistory"/> is the caller's (the conversation), which the filter cannot see itself on the
/// <c>IChatClient</c> path.
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
        var scope = new KernelRequestScope(chatHistory);
        for (int round = 0; ; round++)
        {
            IReadOnlyList<ChatMessageContent> result;
            using (scope.Enter())
            {
                result = await Inner.GetChatMessageContentsAsync(chatHistory, executionSettings, kernel, cancellationToken).ConfigureAwait(false);
            }

            if (round >= MaxImageRounds || !TryAddImages(scope, result))
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
        var scope = new KernelRequestScope(chatHistory);
        for (int round = 0; ; round++)
        {
            // The filter runs inside the inner enumerator's MoveNextAsync: enter the request around each of those calls.
            IAsyncEnumerator<StreamingChatMessageContent> updates = Inner.GetStreamingChatMessageContentsAsync(chatHistory, executionSettings, kernel, cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            try
            {
                while (true)
                {
                    bool more;
                    using (scope.Enter())
                    {
                        more = await updates.MoveNextAsync().ConfigureAwait(false);
                    }

                    if (!more)
                    {
                        break;
                    }

                    // A round ended for images: the connector echoes the last tool message as an update; it is not the model's text.
                    if (scope.IsTerminated && updates.Current.Role == AuthorRole.Tool)
                    {
                        continue;
                    }

                    yield return updates.Current;
                }
            }
            finally
            {
                await updates.DisposeAsync().ConfigureAwait(false);
            }

            if (round >= MaxImageRounds || !TryAddImages(scope, []))
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// After a round the filter ended for images: the round's tool messages, then the user message of images, go into the
    /// history. The OpenAI connector has already added the tool messages; the <c>IChatClient</c> bridge returns the last one
    /// as the result instead of adding it, so it is added here (before the images: a tool message must follow its call).
    /// </summary>
    private static bool TryAddImages(KernelRequestScope scope, IReadOnlyList<ChatMessageContent> result)
    {
        if (scope.TakeIfTerminated() is not { } images)
        {
            return false;
        }

        ChatHistory history = scope.History;
        foreach (ChatMessageContent message in result)
        {
            if (message.Role == AuthorRole.Tool && !history.Any(m => ReferenceEquals(m, message)))
            {
                history.Add(message);
            }
        }

        history.Add(images);
        return true;
    }
}

using System.Text;
using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary>
/// Moves images out of tool results into a user message of image parts right after the tool messages, so they reach the
/// model as images: chat APIs (OpenAI chat completions, Responses) take no images in tool messages, and a provider would
/// otherwise serialize them into the tool message as base64 text. The tool message keeps the text (the JSON record) only.
/// </summary>
/// <remarks>
/// Place it between <see cref="FunctionInvokingChatClient"/> and the provider client, so it sees every round's history:
/// <c>new ChatClientBuilder(inner).UseFunctionInvocation().UseToolResultImages().Build()</c>. The caller's messages are not
/// changed; the provider gets a rewritten copy. Any tool's image results are moved: a <see cref="DataContent"/> (or
/// <see cref="UriContent"/>) with an <c>image/*</c> media type returned as the result or inside a list of contents.
/// </remarks>
public sealed class ToolResultImagesChatClient(IChatClient innerClient) : DelegatingChatClient(innerClient)
{
    /// <inheritdoc/>
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(Rewrite(messages), options, cancellationToken);

    /// <inheritdoc/>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(Rewrite(messages), options, cancellationToken);

    /// <summary>The messages with tool-result images moved into user messages; the same instance when there are none.</summary>
    /// <param name="messages">The history about to be sent.</param>
    /// <returns>What the provider should get.</returns>
    public static IEnumerable<ChatMessage> Rewrite(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        IReadOnlyList<ChatMessage> list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        if (!list.Any(HasImageResult))
        {
            return messages;
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var output = new List<ChatMessage>(list.Count + 2);
        var pending = new List<AIContent>();
        for (int i = 0; i < list.Count; i++)
        {
            ChatMessage message = list[i];
            foreach (FunctionCallContent call in message.Contents.OfType<FunctionCallContent>())
            {
                names[call.CallId] = call.Name;
            }

            output.Add(HasImageResult(message) ? MoveImages(message, names, pending) : message);
            bool toolRunEnds = message.Role == ChatRole.Tool && (i + 1 == list.Count || list[i + 1].Role != ChatRole.Tool);
            if (toolRunEnds && pending.Count > 0)
            {
                output.Add(new ChatMessage(ChatRole.User, [.. pending]));
                pending.Clear();
            }
        }

        return output;
    }

    private static bool HasImageResult(ChatMessage message) =>
        message.Contents.OfType<FunctionResultContent>().Any(r => Images(r.Result).Any());

    private static ChatMessage MoveImages(ChatMessage message, Dictionary<string, string> names, List<AIContent> pending)
    {
        var contents = new List<AIContent>(message.Contents.Count);
        foreach (AIContent content in message.Contents)
        {
            if (content is not FunctionResultContent result || !Images(result.Result).Any())
            {
                contents.Add(content);
                continue;
            }

            List<AIContent> images = [.. Images(result.Result)];
            string text = TextOf(result.Result);
            string name = names.TryGetValue(result.CallId, out string? n) ? n : "tool";
            string note = images.Count == 1 ? "1 image" : images.Count + " images";
            contents.Add(new FunctionResultContent(result.CallId, text.Length > 0
                ? text + $"\n[{note} attached in the next user message]"
                : $"[{note} attached in the next user message]")
            {
                Exception = result.Exception,
                AdditionalProperties = result.AdditionalProperties,
            });
            pending.Add(new TextContent($"{Capitalized(note)} returned by the {name} call {result.CallId}:"));
            pending.AddRange(images);
        }

        return new ChatMessage(message.Role, contents)
        {
            AuthorName = message.AuthorName,
            MessageId = message.MessageId,
            CreatedAt = message.CreatedAt,
            AdditionalProperties = message.AdditionalProperties,
        };
    }

    private static string Capitalized(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    private static IEnumerable<AIContent> Images(object? result) => result switch
    {
        AIContent single when IsImage(single) => [single],
        IEnumerable<AIContent> many => many.Where(IsImage),
        _ => [],
    };

    private static bool IsImage(AIContent content) => content switch
    {
        DataContent data => data.HasTopLevelMediaType("image"),
        UriContent uri => uri.HasTopLevelMediaType("image"),
        _ => false,
    };

    private static string TextOf(object? result)
    {
        if (result is not IEnumerable<AIContent> many)
        {
            return string.Empty;
        }

        var text = new StringBuilder();
        foreach (AIContent content in many)
        {
            if (content is TextContent t && !string.IsNullOrEmpty(t.Text))
            {
                if (text.Length > 0)
                {
                    text.Append('\n');
                }

                text.Append(t.Text);
            }
        }

        return text.ToString();
    }
}

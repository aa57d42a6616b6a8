using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AIChatRole = Microsoft.Extensions.AI.ChatRole;
using OpenAIChatMessage = OpenAI.Chat.ChatMessage;

namespace CodeInterpreterAgent.Models;

// Written here because Microsoft.Extensions.AI.OpenAI is not available: a minimal IChatClient over OpenAI.Chat.ChatClient
// (non-streaming; text, images and function calls, tool definitions from the AIFunctions' JSON schemas).
/// <summary>An <see cref="IChatClient"/> for OpenAI or any OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp server).</summary>
internal sealed class OpenAIChatClient : IChatClient
{
    private readonly ChatClient _client;
    private readonly ChatClientMetadata _metadata;

    public OpenAIChatClient(ModelSettings settings)
    {
        var options = new OpenAIClientOptions();
        if (settings.BaseUrl is not null)
        {
            options.Endpoint = settings.BaseUrl;
        }

        // Local OpenAI-compatible servers usually accept any key; the SDK insists on a non-empty one.
        _client = new ChatClient(settings.Model, new ApiKeyCredential(settings.ApiKey ?? "not-needed"), options);
        _metadata = new ChatClientMetadata("openai", settings.BaseUrl ?? new Uri("https://api.openai.com/v1"), settings.Model);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var completionOptions = new ChatCompletionOptions();
        foreach (AIFunctionDeclaration function in options?.Tools?.OfType<AIFunctionDeclaration>() ?? [])
        {
            completionOptions.Tools.Add(ChatTool.CreateFunctionTool(function.Name, function.Description,
                BinaryData.FromString(function.JsonSchema.GetRawText())));
        }

        if (options?.Temperature is { } temperature)
        {
            completionOptions.Temperature = temperature;
        }

        if (options?.MaxOutputTokens is { } maxTokens)
        {
            completionOptions.MaxOutputTokenCount = maxTokens;
        }

        ClientResult<ChatCompletion> result = await _client.CompleteChatAsync(ToOpenAI(messages), completionOptions, cancellationToken);
        ChatCompletion completion = result.Value;

        var contents = new List<AIContent>();
        foreach (ChatMessageContentPart part in completion.Content)
        {
            if (part.Kind == ChatMessageContentPartKind.Text && !string.IsNullOrEmpty(part.Text))
            {
                contents.Add(new TextContent(part.Text));
            }
        }

        foreach (ChatToolCall call in completion.ToolCalls)
        {
            contents.Add(new FunctionCallContent(call.Id, call.FunctionName, ParseArguments(call.FunctionArguments)));
        }

        return new ChatResponse(new AIChatMessage(AIChatRole.Assistant, contents))
        {
            ModelId = completion.Model,
            ResponseId = completion.Id,
            Usage = completion.Usage is { } usage
                ? new UsageDetails { InputTokenCount = usage.InputTokenCount, OutputTokenCount = usage.OutputTokenCount, TotalTokenCount = usage.TotalTokenCount }
                : null,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChatResponse response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (ChatResponseUpdate update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType.IsInstanceOfType(_client) ? _client
        : null;

    public void Dispose()
    {
    }

    private static Dictionary<string, object?> ParseArguments(BinaryData json)
    {
        if (json.ToMemory().IsEmpty)
        {
            return [];
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty property in doc.RootElement.EnumerateObject())
                {
                    arguments[property.Name] = property.Value.Clone();
                }
            }

            return arguments;
        }
        catch (JsonException)
        {
            // Models sometimes emit broken JSON; the tool then reports the missing arguments to the model.
            return [];
        }
    }

    private static List<OpenAIChatMessage> ToOpenAI(IEnumerable<AIChatMessage> messages)
    {
        var result = new List<OpenAIChatMessage>();
        foreach (AIChatMessage message in messages)
        {
            if (message.Role == AIChatRole.System)
            {
                result.Add(new SystemChatMessage(message.Text));
            }
            else if (message.Role == AIChatRole.User)
            {
                result.Add(new UserChatMessage(ToParts(message.Contents)));
            }
            else if (message.Role == AIChatRole.Assistant)
            {
                var calls = message.Contents.OfType<FunctionCallContent>()
                    .Select(c => ChatToolCall.CreateFunctionToolCall(c.CallId, c.Name,
                        BinaryData.FromString(JsonSerializer.Serialize(c.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions))))
                    .ToList();
                AssistantChatMessage assistant = calls.Count > 0 ? new AssistantChatMessage(calls) : new AssistantChatMessage(message.Text);
                if (calls.Count > 0 && !string.IsNullOrEmpty(message.Text))
                {
                    assistant.Content.Add(ChatMessageContentPart.CreateTextPart(message.Text));
                }

                result.Add(assistant);
            }
            else if (message.Role == AIChatRole.Tool)
            {
                // Tool messages carry text only; images a tool returned follow in one user message.
                var images = new List<ChatMessageContentPart>();
                foreach (FunctionResultContent toolResult in message.Contents.OfType<FunctionResultContent>())
                {
                    result.Add(new ToolChatMessage(toolResult.CallId, ResultText(toolResult.Result, images)));
                }

                if (images.Count > 0)
                {
                    images.Insert(0, ChatMessageContentPart.CreateTextPart("Images returned by the tool calls above:"));
                    result.Add(new UserChatMessage(images));
                }
            }
        }

        return result;
    }

    private static List<ChatMessageContentPart> ToParts(IEnumerable<AIContent> contents)
    {
        var parts = new List<ChatMessageContentPart>();
        foreach (AIContent content in contents)
        {
            switch (content)
            {
                case TextContent text:
                    parts.Add(ChatMessageContentPart.CreateTextPart(text.Text));
                    break;
                case DataContent data when data.HasTopLevelMediaType("image"):
                    parts.Add(ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(data.Data), data.MediaType));
                    break;
            }
        }

        return parts;
    }

    private static string ResultText(object? value, List<ChatMessageContentPart> images)
    {
        switch (value)
        {
            case null:
                return "null";
            case string s:
                return s;
            case JsonElement element:
                return element.GetRawText();
            case IEnumerable<AIContent> contents:
                var texts = new List<string>();
                foreach (AIContent content in contents)
                {
                    if (content is TextContent text)
                    {
                        texts.Add(text.Text);
                    }
                    else if (content is DataContent data && data.HasTopLevelMediaType("image"))
                    {
                        images.Add(ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(data.Data), data.MediaType));
                        texts.Add($"[image {data.Name ?? data.MediaType} attached below]");
                    }
                }

                return string.Join("\n", texts);
            default:
                return JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions);
        }
    }
}

using System.Collections.ObjectModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using AITextContent = Microsoft.Extensions.AI.TextContent;

namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>Builds the <see cref="KernelPlugin"/> of the sandbox tools.</summary>
public static class SandboxKernelPlugin
{
    private const string ToolMarker = "sandbox.tool";
    private const string ApprovalMarker = "sandbox.requires_approval";

    /// <summary>
    /// Creates the plugin (default name <c>sandbox</c>): <c>run_code</c>, <c>write_file</c>, <c>read_file</c>, <c>list_files</c>,
    /// <c>expose_port</c>, one set for every conversation. Register <see cref="SandboxKernelFilter"/> on the kernel too (the
    /// <c>AddSandboxTools</c> extensions do): it supplies the call id, the conversation (the chat history) and approval.
    /// </summary>
    /// <param name="pool">The pool the conversations' boxes come from.</param>
    /// <param name="options">Plugin name, tool options, approval; defaults when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="timeProvider">Clock; the system clock when null.</param>
    /// <returns>The plugin.</returns>
    public static KernelPlugin Create(SandboxLeasePool pool, SandboxKernelOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        options ??= new SandboxKernelOptions();
        ArgumentException.ThrowIfNullOrWhiteSpace(options.PluginName);
        var naming = new ToolNaming(options.ModelName(string.Empty));
        IList<AITool> tools = SandboxTools.CreateCore(pool, conversationId: null, options.Tools, loggerFactory, timeProvider, naming, wrapApproval: false);
        var functions = new List<KernelFunction>(tools.Count);
        foreach (AIFunction tool in tools.Cast<AIFunction>())
        {
            bool needsApproval = tool.Name == "expose_port" && options.Tools.RequireApprovalForExposePort;
            functions.Add(CreateFunction(tool, options, needsApproval, loggerFactory));
        }

        return KernelPluginFactory.CreateFromFunctions(options.PluginName,
            "A sandboxed Linux box of this conversation: run code, read and write files, expose a web server.", functions);
    }

    internal static bool IsSandboxFunction(KernelFunction function) => function.Metadata.AdditionalProperties.ContainsKey(ToolMarker);

    internal static bool RequiresApproval(KernelFunction function) =>
        function.Metadata.AdditionalProperties.TryGetValue(ApprovalMarker, out object? value) && value is true;

    internal static string NotApproved(string modelName, bool byHost) => ToolOutput.Error(
        byHost
            ? $"The user did not approve this {modelName} call, so it was not run."
            : $"{modelName} needs a person's approval, and no approval step is registered on the kernel, so it was not run.",
        "not_approved",
        byHost
            ? "Do not call it again unless the user asks; tell the user it was not done."
            : "The application must register SandboxKernelFilter with an ApproveAsync callback. Tell the user it was not done.").Json;

    private static KernelFunction CreateFunction(AIFunction tool, SandboxKernelOptions options, bool needsApproval, ILoggerFactory? loggerFactory)
    {
        string pluginName = options.PluginName;
        JsonElement schema = tool.JsonSchema;
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("required", out JsonElement requiredNames))
        {
            foreach (JsonElement name in requiredNames.EnumerateArray())
            {
                required.Add(name.GetString()!);
            }
        }

        var parameters = new List<KernelParameterMetadata>();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("properties", out JsonElement properties))
        {
            foreach (JsonProperty property in properties.EnumerateObject())
            {
                declared.Add(property.Name);
                parameters.Add(new KernelParameterMetadata(property.Name)
                {
                    Description = property.Value.TryGetProperty("description", out JsonElement d) ? d.GetString() : null,
                    DefaultValue = property.Value.TryGetProperty("default", out JsonElement v) ? v.ToString() : null,
                    IsRequired = required.Contains(property.Name),
                    Schema = KernelJsonSchema.Parse(property.Value.GetRawText()),
                });
            }
        }

        async Task<object?> InvokeAsync(Kernel kernel, KernelArguments arguments, CancellationToken cancellationToken)
        {
            KernelInvocationScope? scope = KernelInvocationScope.Current;
            bool forThisCall = scope is not null && scope.Context.Function.Name == tool.Name && scope.Context.Function.PluginName == pluginName;
            if (needsApproval && !(forThisCall && scope!.Approved))
            {
                return NotApproved(options.ModelName(tool.Name), byHost: false);
            }

            // Only the declared parameters reach the tool; the host-side context (never the model's arguments) names the conversation.
            var values = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, object?> pair in arguments)
            {
                if (declared.Contains(pair.Key))
                {
                    values[pair.Key] = pair.Value;
                }
            }

            var context = new Dictionary<object, object?> { [typeof(Kernel)] = kernel };
            if (kernel.Data.TryGetValue(SandboxTools.ConversationIdKey, out object? hostId) && hostId is string { Length: > 0 })
            {
                context[SandboxTools.ConversationIdKey] = hostId;
            }

            if (forThisCall)
            {
                AutoFunctionInvocationContext auto = scope!.Context;
                context[typeof(AutoFunctionInvocationContext)] = auto;
                if (scope.ConversationHistory is { } history)
                {
                    context[typeof(ChatHistory)] = history;
                    context[ConversationResolution.FrameworkConversationKey] = SandboxKernelExtensions.ConversationIdOf(history);
                }
                if (auto.ToolCallId is { Length: > 0 } callId)
                {
                    context[SandboxTools.ToolCallIdKey] = callId;
                }
            }

            object? result = await tool.InvokeAsync(new AIFunctionArguments(values) { Services = kernel.Services, Context = context }, cancellationToken)
                .ConfigureAwait(false);
            return result switch
            {
                JsonElement json => json.GetRawText(),
                IEnumerable<AIContent> contents => ToMessage(contents),
                _ => result,
            };
        }

        return KernelFunctionFactory.CreateFromMethod(InvokeAsync, new KernelFunctionFromMethodOptions
        {
            FunctionName = tool.Name,
            Description = tool.Description,
            Parameters = parameters,
            ReturnParameter = new KernelReturnParameterMetadata { Description = "A JSON record (error records carry error, error_type and hint).", ParameterType = typeof(string) },
            LoggerFactory = loggerFactory,
            AdditionalMetadata = AdditionalMetadata(tool.Name, needsApproval),
        });
    }

    private static ReadOnlyDictionary<string, object?> AdditionalMetadata(string toolName, bool needsApproval) =>
        new(new Dictionary<string, object?>(StringComparer.Ordinal) { [ToolMarker] = toolName, [ApprovalMarker] = needsApproval });

    /// <summary>A result with images: the JSON as the message text (what the tool message carries), the images as <see cref="ImageContent"/>.</summary>
    private static ChatMessageContent ToMessage(IEnumerable<AIContent> contents)
    {
        var items = new ChatMessageContentItemCollection();
        foreach (AIContent content in contents)
        {
            switch (content)
            {
                case AITextContent text:
                    items.Add(new Microsoft.SemanticKernel.TextContent(text.Text));
                    break;
                case DataContent data:
                    items.Add(new ImageContent(data.Data, data.MediaType));
                    break;
            }
        }

        return new ChatMessageContent(AuthorRole.Tool, items);
    }
}

using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>
/// Base of the sandbox tools: parses the model's arguments, rents the conversation's box, runs the tool inside an
/// <c>execute_tool {name}</c> span, and turns expected failures into values the model can act on.
/// </summary>
/// <typeparam name="TArgs">The parsed arguments.</typeparam>
internal abstract class SandboxToolFunction<TArgs> : AIFunction
{
    private readonly JsonElement _schema;

    protected SandboxToolFunction(SandboxToolContext context, string name, string description, string schemaJson)
    {
        Context = context;
        Name = name;
        Description = context.Naming.Apply(description);
        _schema = context.Naming.ApplyToSchema(ToolJson.Schema(schemaJson));
    }

    public override string Name { get; }

    public override string Description { get; }

    public override JsonElement JsonSchema => _schema;

    public override JsonSerializerOptions JsonSerializerOptions => ToolJson.Options;

    protected SandboxToolContext Context { get; }

    /// <summary>Validates and converts the arguments; throws <see cref="ToolArgumentException"/> before any box is rented.</summary>
    protected abstract TArgs Parse(AIFunctionArguments arguments);

    protected abstract Task<ToolOutput> ExecuteAsync(SandboxLease lease, TArgs args, ToolInvocation invocation, CancellationToken cancellationToken);

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        string? callId = SandboxTools.GetToolCallId(arguments, Name);

        // One execute_tool span per call: when the framework already opened one for this call (Microsoft.Extensions.AI's
        // FunctionInvokingChatClient, Semantic Kernel's KernelFunction), it is enriched; otherwise this library opens it.
        Activity? frameworkSpan = FindFrameworkToolSpan();
        using Activity? ownSpan = frameworkSpan is null
            ? SandboxToolsDiagnostics.ActivitySource.StartActivity("execute_tool " + Name, ActivityKind.Internal)
            : null;
        Activity? activity = ownSpan ?? frameworkSpan;
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", activity.GetTagItem("gen_ai.tool.name") ?? Name);
            activity.SetTag("gen_ai.tool.type", "function");
            activity.SetTag("gen_ai.tool.description", activity.GetTagItem("gen_ai.tool.description") ?? Description);
            activity.SetTag("langsmith.span.kind", "tool");
            if (callId is not null && activity.GetTagItem("gen_ai.tool.call.id") is null)
            {
                activity.SetTag("gen_ai.tool.call.id", callId);
            }

            if (Context.Options.CaptureContent && activity.GetTagItem("gen_ai.tool.call.arguments") is null)
            {
                string input = SerializeArguments(arguments);
                activity.SetTag("gen_ai.tool.call.arguments", input);
                activity.SetTag("gen_ai.prompt", input);
            }
        }

        long started = Context.Time.GetTimestamp();
        ToolOutput output;
        ResolvedConversation? conversation = null;
        try
        {
            TArgs parsed = Parse(arguments);
            conversation = ConversationResolution.Resolve(Context, new SandboxToolInvocation(Name, callId, arguments));
            if (conversation is not { } resolved)
            {
                output = NoConversation();
            }
            else
            {
                activity?.SetTag("sandbox.conversation.id", resolved.Id);
                activity?.SetTag("sandbox.conversation.source", resolved.Source);
                var invocation = new ToolInvocation(resolved.Id, callId);
                try
                {
                    SandboxLease lease = await Context.Pool.RentAsync(resolved.Id, cancellationToken).ConfigureAwait(false);
                    await using (lease.ConfigureAwait(false))
                    {
                        activity?.SetTag("sandbox.name", lease.Sandbox.Name);
                        output = await ExecuteAsync(lease, parsed, invocation, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    if (resolved.OneOff)
                    {
                        await Context.Pool.ReleaseConversationAsync(resolved.Id, CancellationToken.None).ConfigureAwait(false);
                    }
                }

                if (resolved.OneOff)
                {
                    output = output.WithNote("This call ran in a one-off sandbox that is now deleted: files, variables and servers from it are gone.");
                }
            }
        }
        catch (ToolArgumentException ex)
        {
            output = ToolOutput.Error(ex.Message, ex.ErrorType, ex.Hint);
        }
        catch (SandboxPoolExhaustedException ex)
        {
            output = ToolOutput.Error(ex.Message, "pool_exhausted", "No sandbox is free right now. Wait a moment and call the tool again.");
        }
        catch (ResourceNotFoundException ex)
        {
            output = ToolOutput.Error(ex.Message, "not_found", "Check the path with list_files.");
        }
        catch (SandboxException ex)
        {
            Log.ToolFailed(Context.Logger, ex, Name);
            output = ToolOutput.Error("The sandbox service failed: " + ex.Message, "sandbox_error",
                ex.IsTransient ? "This looks temporary: call the tool again." : "Check the arguments; if it keeps failing, continue without this tool.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            activity?.SetTag("error.type", ex.GetType().FullName);
            throw;
        }

        output = output.WithNaming(Context.Naming);
        SandboxToolsDiagnostics.ToolDuration.Record(Context.Time.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("gen_ai.tool.name", Name),
            new KeyValuePair<string, object?>("error.type", output.IsError ? "tool_error" : null));
        if (activity is not null)
        {
            if (output.IsError)
            {
                activity.SetStatus(ActivityStatusCode.Error, "tool_error");
                activity.SetTag("error.type", "tool_error");
            }

            if (Context.Options.CaptureContent)
            {
                activity.SetTag("gen_ai.tool.call.result", output.Json);
                activity.SetTag("gen_ai.completion", output.Json);
            }
        }

        return output.ToResult();
    }

    /// <summary>The framework's <c>execute_tool</c> span of this call, if one is current (never this library's own).</summary>
    private Activity? FindFrameworkToolSpan()
    {
        Activity? current = Activity.Current;
        if (current is null || current.Source == SandboxToolsDiagnostics.ActivitySource ||
            current.GetTagItem("gen_ai.operation.name") as string != "execute_tool")
        {
            return null;
        }

        return current.GetTagItem("gen_ai.tool.name") is string tool && (tool == Name || tool.EndsWith("-" + Name, StringComparison.Ordinal))
            ? current
            : null;
    }

    private ToolOutput NoConversation() => ToolOutput.Error(
        $"{Name} cannot tell which conversation this call belongs to, so it was not run (a sandbox is never shared between conversations).",
        "no_conversation",
        "The application must say which conversation a call belongs to: create the tools with SandboxTools.Create(pool, conversationId), " +
        "run them in an Agent Framework session, put the id into ChatOptions.AdditionalProperties[\"" + SandboxTools.ConversationIdKey + "\"], " +
        "set SandboxToolOptions.ConversationResolver, or set SandboxToolOptions.WhenNoConversation = OneOffBox. Tell the user the code could not be run.");

    private static string SerializeArguments(AIFunctionArguments arguments)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, object?> pair in arguments)
        {
            copy[pair.Key] = pair.Value;
        }

        return JsonSerializer.Serialize(copy, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Dictionary<string, object?>)));
    }
}

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
        Description = description;
        _schema = ToolJson.Schema(schemaJson);
    }

    public override string Name { get; }

    public override string Description { get; }

    public override JsonElement JsonSchema => _schema;

    public override JsonSerializerOptions JsonSerializerOptions => ToolJson.Options;

    protected SandboxToolContext Context { get; }

    /// <summary>Validates and converts the arguments; throws <see cref="ToolArgumentException"/> before any box is rented.</summary>
    protected abstract TArgs Parse(AIFunctionArguments arguments);

    protected abstract Task<ToolOutput> ExecuteAsync(SandboxLease lease, TArgs args, CancellationToken cancellationToken);

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        using Activity? activity = SandboxToolsDiagnostics.ActivitySource.StartActivity("execute_tool " + Name, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", Name);
            activity.SetTag("gen_ai.tool.type", "function");
            activity.SetTag("gen_ai.tool.description", Description);
            activity.SetTag("langsmith.span.kind", "tool");
            activity.SetTag("sandbox.conversation.id", Context.ConversationId);
            if (SandboxTools.GetToolCallId(arguments) is { } callId)
            {
                activity.SetTag("gen_ai.tool.call.id", callId);
            }

            if (Context.Options.CaptureContent)
            {
                string input = SerializeArguments(arguments);
                activity.SetTag("gen_ai.tool.call.arguments", input);
                activity.SetTag("gen_ai.prompt", input);
            }
        }

        long started = Context.Time.GetTimestamp();
        ToolOutput output;
        try
        {
            TArgs parsed = Parse(arguments);
            SandboxLease lease = await Context.Pool.RentAsync(Context.ConversationId, cancellationToken).ConfigureAwait(false);
            await using (lease.ConfigureAwait(false))
            {
                activity?.SetTag("sandbox.name", lease.Sandbox.Name);
                output = await ExecuteAsync(lease, parsed, cancellationToken).ConfigureAwait(false);
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

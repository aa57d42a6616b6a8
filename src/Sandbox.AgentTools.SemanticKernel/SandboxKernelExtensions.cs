using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.ChatCompletion;
using Sandbox.AgentTools;
using Sandbox.AgentTools.SemanticKernel;

namespace Microsoft.SemanticKernel;

/// <summary>Registers the sandbox tools as a Semantic Kernel plugin (default name <c>sandbox</c>).</summary>
public static class SandboxKernelExtensions
{
    /// <summary>
    /// Adds the sandbox plugin to a plugin collection. This adds the functions only: for the call id, the chat history as the
    /// conversation, approval and images, also add <see cref="SandboxKernelFilter"/> to the kernel's
    /// <c>AutoFunctionInvocationFilters</c> (or use <see cref="AddSandboxTools(Kernel, SandboxLeasePool, SandboxKernelOptions?, ILoggerFactory?)"/>).
    /// </summary>
    /// <param name="plugins">The kernel's plugins.</param>
    /// <param name="pool">The pool the conversations' boxes come from.</param>
    /// <param name="options">Plugin name, tool options, approval; defaults when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <returns>The plugin added.</returns>
    public static KernelPlugin AddSandboxTools(this ICollection<KernelPlugin> plugins, SandboxLeasePool pool, SandboxKernelOptions? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(plugins);
        KernelPlugin plugin = SandboxKernelPlugin.Create(pool, options, loggerFactory);
        plugins.Add(plugin);
        return plugin;
    }

    /// <summary>Adds the sandbox plugin and its <see cref="SandboxKernelFilter"/> to a kernel.</summary>
    /// <param name="kernel">The kernel.</param>
    /// <param name="pool">The pool the conversations' boxes come from.</param>
    /// <param name="options">Plugin name, tool options, approval; defaults when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <returns>The kernel.</returns>
    /// <remarks>
    /// Images reach the model as image parts only through a chat completion service wrapped with
    /// <see cref="WithToolResultImages"/> (the <see cref="IKernelBuilder"/> and <see cref="IServiceCollection"/> registrations wrap
    /// the registered services themselves).
    /// </remarks>
    public static Kernel AddSandboxTools(this Kernel kernel, SandboxLeasePool pool, SandboxKernelOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        options ??= new SandboxKernelOptions();
        kernel.Plugins.AddSandboxTools(pool, options, loggerFactory);
        kernel.AutoFunctionInvocationFilters.Add(new SandboxKernelFilter(options));
        return kernel;
    }

    /// <summary>
    /// Registers the sandbox plugin, its <see cref="SandboxKernelFilter"/>, and wraps the chat completion services registered so
    /// far with <see cref="ToolResultImagesChatCompletionService"/> (call it after <c>AddOpenAIChatCompletion</c>). Uses the
    /// <see cref="SandboxLeasePool"/> given, else the one registered (e.g. by <c>AddSandboxAgentTools</c>).
    /// </summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="pool">The pool; null to use the registered one.</param>
    /// <param name="configure">Plugin name, tool options, approval.</param>
    /// <returns>The builder.</returns>
    public static IKernelBuilder AddSandboxTools(this IKernelBuilder builder, SandboxLeasePool? pool = null, Action<SandboxKernelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new SandboxKernelOptions();
        configure?.Invoke(options);
        Register(builder.Services, options, pool);
        return builder;
    }

    /// <summary>
    /// Registers the pool and client (as <c>AddSandboxAgentTools</c> does), the sandbox plugin as a <see cref="KernelPlugin"/>,
    /// its <see cref="SandboxKernelFilter"/>, and wraps the chat completion services registered so far with
    /// <see cref="ToolResultImagesChatCompletionService"/>. A kernel built from these services (<c>AddKernel()</c>) has the plugin.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Plugin name, tool options, approval.</param>
    /// <param name="configurePool">Pool options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddSandboxKernelTools(this IServiceCollection services, Action<SandboxKernelOptions>? configure = null,
        Action<SandboxPoolOptions>? configurePool = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new SandboxKernelOptions();
        configure?.Invoke(options);
        services.AddSandboxAgentTools(configureTools: null, configurePool);
        Register(services, options, pool: null);
        return services;
    }

    /// <summary>Wraps a chat completion service so tool-result images reach the model as image parts (see <see cref="ToolResultImagesChatCompletionService"/>).</summary>
    /// <param name="service">The service, e.g. the OpenAI connector's.</param>
    /// <returns>The wrapped service (the same one when already wrapped).</returns>
    public static IChatCompletionService WithToolResultImages(this IChatCompletionService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return service as ToolResultImagesChatCompletionService ?? new ToolResultImagesChatCompletionService(service);
    }

    /// <summary>The sandbox conversation id of a chat history (the plugin's default conversation: one per <see cref="ChatHistory"/> object).</summary>
    /// <param name="chatHistory">The chat history.</param>
    /// <returns>The id the tools use for calls made on that history.</returns>
    public static string ConversationIdOf(ChatHistory chatHistory)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        return ConversationResolution.IdentityKey(chatHistory, "sk-chat-");
    }

    /// <summary>Ends the conversation of a chat history: its box is deleted.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="chatHistory">The chat history.</param>
    /// <param name="cancellationToken">Cancels waiting for a running call.</param>
    /// <returns>A task that completes when the box is deleted.</returns>
    public static ValueTask ReleaseConversationAsync(this SandboxLeasePool pool, ChatHistory chatHistory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.ReleaseConversationAsync(ConversationIdOf(chatHistory), cancellationToken);
    }

    private static void Register(IServiceCollection services, SandboxKernelOptions options, SandboxLeasePool? pool)
    {
        services.AddSingleton(sp => SandboxKernelPlugin.Create(
            pool ?? sp.GetRequiredService<SandboxLeasePool>(), options, sp.GetService<ILoggerFactory>(), sp.GetService<TimeProvider>()));
        services.AddSingleton<IAutoFunctionInvocationFilter>(new SandboxKernelFilter(options));
        for (int i = 0; i < services.Count; i++)
        {
            ServiceDescriptor d = services[i];
            if (d.ServiceType != typeof(IChatCompletionService))
            {
                continue;
            }

            services[i] = d.IsKeyedService
                ? new ServiceDescriptor(d.ServiceType, d.ServiceKey, (sp, key) => ((IChatCompletionService)(d.KeyedImplementationInstance
                    ?? d.KeyedImplementationFactory?.Invoke(sp, key)
                    ?? ActivatorUtilities.CreateInstance(sp, d.KeyedImplementationType!))).WithToolResultImages(), d.Lifetime)
                : new ServiceDescriptor(d.ServiceType, sp => ((IChatCompletionService)(d.ImplementationInstance
                    ?? d.ImplementationFactory?.Invoke(sp)
                    ?? ActivatorUtilities.CreateInstance(sp, d.ImplementationType!))).WithToolResultImages(), d.Lifetime);
        }
    }
}

using System.Globalization;
using Microsoft.Extensions.AI;
using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary><c>expose_port(port)</c>.</summary>
internal sealed class ExposePortFunction(SandboxToolContext context) : SandboxToolFunction<ExposePortFunction.Args>(context, "expose_port",
    "Make an HTTP server running inside the sandbox reachable from outside: waits until the port accepts connections and answers HTTP, " +
    "then returns a service URL (for programs, needs the service token header) and a browser URL (for people), with their expiry. " +
    "Start the server first, in the background (e.g. run_code with bash: 'nohup python3 -m http.server 8000 > /tmp/http.log 2>&1 &').",
    ToolSchemas.For<ExposePortArguments>(context.Options, context.Policy))
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    internal sealed record Args(int Port);

    protected override Args Parse(AIFunctionArguments arguments) =>
        new((int)(ToolArgs.GetInteger(arguments, "port", 1, 65535) ?? throw new ToolArgumentException("The argument 'port' is required.")));

    protected override async Task<ToolOutput> ExecuteAsync(SandboxLease lease, Args args, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        SandboxInstance box = lease.Sandbox;
        TimeSpan budget = Context.Options.ExposePortTimeout;
        long started = Context.Time.GetTimestamp();
        using var deadline = new CancellationTokenSource(budget, Context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        string port = args.Port.ToString(CultureInfo.InvariantCulture);
        try
        {
            // 1. Inside the box: does anything accept connections on the port? (bash /dev/tcp; the port is an integer.)
            while (true)
            {
                CommandResult probe = await box.RunAsync("exec 3<>/dev/tcp/127.0.0.1/" + port,
                    new RunOptions { Timeout = TimeSpan.FromSeconds(5) }, linked.Token).ConfigureAwait(false);
                if (probe.ExitCode == 0)
                {
                    break;
                }

                await Task.Delay(PollInterval, Context.Time, linked.Token).ConfigureAwait(false);
            }

            // 2. Through the service URL, as an outside client would.
            ServiceUrl url = await box.GetServiceUrlAsync(args.Port, new ServiceUrlOptions { ExpiresIn = Context.Options.ServiceUrlLifetime }, linked.Token).ConfigureAwait(false);
            int status;
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/");
                try
                {
                    using HttpResponseMessage response = await url.SendAsync(request, linked.Token).ConfigureAwait(false);
                    status = (int)response.StatusCode;
                    if (status is not (502 or 503 or 504))
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                    // The route may not be up yet; retry until the deadline.
                }

                await Task.Delay(PollInterval, Context.Time, linked.Token).ConfigureAwait(false);
            }

            string serviceUrl = await url.GetServiceUrlAsync(linked.Token).ConfigureAwait(false);
            string browserUrl = await url.GetBrowserUrlAsync(linked.Token).ConfigureAwait(false);
            DateTimeOffset? expires = await url.GetExpiresAtAsync(linked.Token).ConfigureAwait(false);
            return ToolOutput.From(new ExposePortResult(
                args.Port,
                serviceUrl,
                string.IsNullOrEmpty(browserUrl) ? null : browserUrl,
                expires?.ToString("O", CultureInfo.InvariantCulture),
                status,
                Math.Round(Context.Time.GetElapsedTime(started).TotalMilliseconds, 1),
                $"Port {args.Port} answered HTTP {status}. Give people the browser_url; programs call service_url with the header {ServiceUrl.TokenHeader}. " +
                "The URLs expire at expires_at; call expose_port again for fresh ones."));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return ToolOutput.Error(
                $"Nothing answered HTTP on port {args.Port} inside the sandbox within {budget.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.",
                "port_not_ready",
                $"Start the server in the background first and make it listen on 0.0.0.0:{args.Port} (e.g. run_code with bash: " +
                $"'nohup python3 -m http.server {args.Port} --bind 0.0.0.0 > /tmp/http.log 2>&1 &'), check its log, then call expose_port again.");
        }
    }
}

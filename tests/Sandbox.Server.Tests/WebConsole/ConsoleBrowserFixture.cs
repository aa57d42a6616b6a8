using Microsoft.Playwright;
using Sandbox.Client;

namespace Sandbox.Server.Tests.WebConsole;

/// <summary>
/// One server and one headless Chromium (Debian package, <c>eng/install-deps.sh --browser</c>) driven by Playwright for
/// the web console tests. Screenshots go to <c>artifacts/ui-screenshots/</c> of the repository.
/// </summary>
public sealed class ConsoleBrowserFixture : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    public LocalSandboxServer Server { get; private set; } = null!;

    public SandboxClient Client { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string ScreenshotDirectory { get; } = Path.Combine(RepositoryRoot(), "artifacts", "ui-screenshots");

    public async ValueTask InitializeAsync()
    {
        Server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.WarmBoxes = 0 });
        Client = Server.CreateClient();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArgs,
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>The console URL of <paramref name="path"/> (e.g. <c>ui/</c>).</summary>
    public string Url(string path) => new Uri(Server.LangSmithEndpoint, path).ToString();

    /// <summary>A new browser context (no cookies) with a page signed in through the login form.</summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignedInPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GotoAsync(Url("ui/"));
        await page.WaitForURLAsync("**/ui/login");
        await page.FillAsync("#api-key", Server.ApiKey);
        await page.ClickAsync("#sign-in");
        await page.WaitForURLAsync(u => u.EndsWith("/ui/", StringComparison.Ordinal));
        return (context, page);
    }

    public Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name), FullPage = true });

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sandbox.AgentTools.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? AppContext.BaseDirectory;
    }
}

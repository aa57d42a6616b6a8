using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Sandbox.Client;

namespace Sandbox.Server.Tests.WebConsole;

/// <summary>The web console in a real browser: sign in, live list, shell, open service, share link, sign out, refusals.</summary>
public sealed class ConsoleBrowserTests(ConsoleBrowserFixture fixture) : IClassFixture<ConsoleBrowserFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SignIn_ThenTheListShowsABoxCreatedThroughTheSdk_AndSnapshotsPageRenders()
    {
        var (context, page) = await fixture.SignedInPageAsync();
        await using var _ = context;
        string name = "ui-list-" + Guid.NewGuid().ToString("N")[..6];
        await using var box = await fixture.Client.CreateSandboxAsync(new CreateSandboxOptions
        {
            Name = name,
            Labels = new Dictionary<string, string> { ["team"] = "console" },
        });

        // The list polls: the new box shows up (ready, with its label) without a reload.
        var row = page.Locator($"#boxes tr[data-name='{name}']");
        await page.Locator($"#boxes tr[data-name='{name}'][data-status='ready']").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
        Assert.Contains("team=console", await row.InnerTextAsync(), StringComparison.Ordinal);

        // The filter hides rows that do not match.
        await page.FillAsync("#filter", "no-such-box");
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden });
        await page.FillAsync("#filter", "team=console");
        await row.WaitForAsync();
        await fixture.ScreenshotAsync(page, "01-sandbox-list.png");

        // Stop through the UI (confirmation accepted): the row follows.
        await row.Locator("button", new LocatorLocatorOptions { HasText = "Stop" }).ClickAsync();
        await page.Locator($"#boxes tr[data-name='{name}'][data-status='stopped']").WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
        Assert.Equal("stopped", (await box.RefreshAsync()).Status);

        await page.GotoAsync(fixture.Url("ui/snapshots"));
        await page.Locator("#snapshots tbody tr").First.WaitForAsync();
        await page.SelectOptionAsync("#capture-box", name);
        string snapshotName = name + "-snap";
        await page.FillAsync("#capture-name", snapshotName);
        await page.ClickAsync("#capture-form button[type=submit]");
        await page.Locator($"#snapshots tr[data-name='{snapshotName}']").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        await fixture.ScreenshotAsync(page, "04-snapshots.png");
    }

    [Fact]
    public async Task Shell_RunsPython_FollowsResizes_AndKeepsOutputAcrossAReconnect()
    {
        var (context, page) = await fixture.SignedInPageAsync();
        await using var _ = context;
        await using var box = await fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { Name = "ui-shell-" + Guid.NewGuid().ToString("N")[..6] });
        await page.GotoAsync(fixture.Url("ui/sandbox?id=" + box.Info.Id));
        await WaitForShellAsync(page);

        await TypeAsync(page, "python3 -c \"print(6*7)\"");
        await WaitForTerminalAsync(page, text => Regex.IsMatch(text, @"^42\s*$", RegexOptions.Multiline));
        await page.Locator("#stat-mem").Filter(new LocatorFilterOptions { HasTextRegex = new Regex("MiB|KiB|GiB") }).WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
        await page.Locator("#commands tbody tr").First.WaitForAsync();
        await fixture.ScreenshotAsync(page, "02-sandbox-shell.png");

        // Resize: the PTY inside the box reports the terminal's new size.
        await page.SetViewportSizeAsync(900, 800);
        await page.WaitForFunctionAsync("() => window.__console.shell.term.cols < 100");
        int cols = await page.EvaluateAsync<int>("() => window.__console.shell.term.cols");
        int rows = await page.EvaluateAsync<int>("() => window.__console.shell.term.rows");
        await TypeAsync(page, "stty size");
        await WaitForTerminalAsync(page, text => text.Contains($"{rows} {cols}", StringComparison.Ordinal));

        // A network blip while a command prints: the shell re-attaches from its byte offsets; nothing lost or repeated.
        await TypeAsync(page, "for i in 1 2 3 4 5 6; do echo tick-$i; sleep 0.4; done");
        await WaitForTerminalAsync(page, text => text.Contains("tick-2", StringComparison.Ordinal));
        await page.EvaluateAsync("() => window.__console.shell.simulateBlip()");
        await WaitForTerminalAsync(page, text => text.Contains("tick-6", StringComparison.Ordinal));
        string all = await TerminalTextAsync(page);
        for (int i = 1; i <= 6; i++)
        {
            Assert.Single(Regex.Matches(all, $"^tick-{i}\\s*$", RegexOptions.Multiline));
        }

        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__console.shell.attempt"));
    }

    [Fact]
    public async Task FileBrowser_UploadsIntoTheBox_AndDownloadsTheSameBytes()
    {
        var (context, page) = await fixture.SignedInPageAsync();
        await using var _ = context;
        await using var box = await fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { Name = "ui-files-" + Guid.NewGuid().ToString("N")[..6] });
        await page.GotoAsync(fixture.Url("ui/sandbox?id=" + box.Info.Id));
        await page.Locator("#files-path").WaitForAsync();

        byte[] content = [.. "uploaded through the console\n"u8, 0, 1, 2, 255];
        await page.SetInputFilesAsync("#files-upload", new FilePayload { Name = "notes.bin", MimeType = "application/octet-stream", Buffer = content });
        var row = page.Locator("#files tbody tr", new PageLocatorOptions { HasText = "notes.bin" });
        await row.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
        Assert.Equal("uploaded through the console", (await box.RunAsync("head -n1 /home/user/notes.bin")).Stdout.Trim());

        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("button", new LocatorLocatorOptions { HasText = "download" }).ClickAsync());
        Assert.Equal("notes.bin", download.SuggestedFilename);
        string saved = Path.Combine(Path.GetTempPath(), "console-dl-" + Guid.NewGuid().ToString("N"));
        await download.SaveAsAsync(saved);
        try
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(saved));
        }
        finally
        {
            File.Delete(saved);
        }
    }

    [Fact]
    public async Task OpenService_OpensTheBoxPage_AndTheShareLinkWorksWithoutACookie()
    {
        var (context, page) = await fixture.SignedInPageAsync();
        await using var _ = context;
        await using var box = await fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { Name = "ui-svc-" + Guid.NewGuid().ToString("N")[..6] });
        var started = await box.RunAsync(
            "mkdir -p /tmp/site && echo '<h1>served from the box 7e1</h1>' > /tmp/site/index.html && cd /tmp/site && " +
            "(nohup python3 -m http.server 8123 --bind 127.0.0.1 >/dev/null 2>&1 &) && " +
            "for i in $(seq 50); do grep -q ':1FBB 00000000:0000 0A' /proc/net/tcp && exit 0; sleep 0.1; done; exit 1");
        Assert.Equal(0, started.ExitCode);

        await page.GotoAsync(fixture.Url("ui/sandbox?id=" + box.Info.Id));
        var chip = page.Locator("#ports .chip[data-port='8123']");
        await chip.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)Wait.TotalMilliseconds });
        await chip.ClickAsync();
        Assert.Equal("8123", await page.InputValueAsync("#service-port"));

        var popup = await page.RunAndWaitForPopupAsync(() => page.ClickAsync("#service-open"));
        await popup.WaitForLoadStateAsync();
        await popup.Locator("h1").WaitForAsync();
        Assert.Equal("served from the box 7e1", await popup.Locator("h1").InnerTextAsync());
        await popup.CloseAsync();

        await page.SelectOptionAsync("#share-lifetime", "900");
        await page.ClickAsync("#service-share");
        await page.Locator("#share-url").WaitForAsync();
        string link = await page.InputValueAsync("#share-url");
        Assert.StartsWith("http://", link, StringComparison.Ordinal);
        await page.Locator("#service-widget").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(fixture.ScreenshotDirectory, "03-open-service-widget.png") });

        // A fresh context: no console cookie, no service cookie.
        await using var stranger = await fixture.Browser.NewContextAsync();
        var strangerPage = await stranger.NewPageAsync();
        await strangerPage.GotoAsync(link);
        Assert.Equal("served from the box 7e1", await strangerPage.Locator("h1").InnerTextAsync());
        await fixture.ScreenshotAsync(strangerPage, "05-shared-service.png");
        // ... and that context has no access to the console or the API.
        var response = await strangerPage.GotoAsync(fixture.Url("ui/"));
        Assert.EndsWith("/ui/login", strangerPage.Url, StringComparison.Ordinal);
        var api = await strangerPage.APIRequest.GetAsync(fixture.Url("v2/sandboxes/boxes"));
        Assert.Equal(401, api.Status);
        Assert.NotNull(response);
    }

    [Fact]
    public async Task ForgedCsrfToken_MissingSession_AndSignOut_AreRefused()
    {
        var (context, page) = await fixture.SignedInPageAsync();
        await using var _ = context;

        // The page's own calls work: a read, and a state change with the real token.
        Assert.Equal(200, await FetchStatusAsync(page, "GET", "/v2/sandboxes/boxes", null));
        // Forged and missing CSRF tokens are refused before anything happens.
        Assert.Equal(403, await FetchStatusAsync(page, "POST", "/v2/sandboxes/boxes", "forged-token"));
        Assert.Equal(403, await FetchStatusAsync(page, "POST", "/v2/sandboxes/boxes", ""));
        Assert.DoesNotContain(await fixture.Client.ListSandboxesAsync(), b => b.Name == "csrf-probe");

        // The key is in no script-visible storage and the session cookie is HttpOnly.
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
        Assert.DoesNotContain(fixture.Server.ApiKey, await page.EvaluateAsync<string>("() => document.cookie + JSON.stringify(sessionStorage)"), StringComparison.Ordinal);
        var cookies = await context.CookiesAsync();
        var session = cookies.Where(c => c.Name == "sandbox_console").ToList();
        Assert.NotEmpty(session);
        Assert.All(session, c => Assert.True(c.HttpOnly && c.SameSite == SameSiteAttribute.Strict && c.Path != "/"));
        Assert.DoesNotContain(cookies, c => c.Value.Contains(fixture.Server.ApiKey, StringComparison.Ordinal));

        await page.ClickAsync("#sign-out");
        await page.WaitForURLAsync("**/ui/login");
        Assert.Equal(401, await FetchStatusAsync(page, "GET", "/v2/sandboxes/boxes", null));
        await page.GotoAsync(fixture.Url("ui/sandbox?id=x"));
        Assert.EndsWith("/ui/login", page.Url, StringComparison.Ordinal);

        // The old session value is dead on the server too (replayed from another client).
        string stale = string.Join("; ", session.Select(c => c.Name + "=" + c.Value).Distinct());
        using var http = new HttpClient { BaseAddress = fixture.Server.LangSmithEndpoint };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/sandboxes/boxes");
        request.Headers.Add("Cookie", stale);
        using var replay = await http.SendAsync(request);
        Assert.Equal(401, (int)replay.StatusCode);
    }

    private static Task<int> FetchStatusAsync(IPage page, string method, string path, string? csrfOverride) =>
        page.EvaluateAsync<int>(
            @"async ([method, path, csrf]) => {
                const headers = { 'Content-Type': 'application/json' };
                if (csrf !== null) headers['X-CSRF-TOKEN'] = csrf;
                const r = await fetch(path, { method, headers, body: method === 'GET' ? undefined : JSON.stringify({ name: 'csrf-probe' }), credentials: 'same-origin' });
                return r.status;
            }",
            new object?[] { method, path, csrfOverride });

    private static async Task WaitForShellAsync(IPage page)
    {
        await page.WaitForFunctionAsync("() => window.__console && window.__console.shell && (window.__console.shell.statusText || '').startsWith('connected')",
            null, new PageWaitForFunctionOptions { Timeout = (float)Wait.TotalMilliseconds });
        // The prompt is up once the shell printed something.
        await page.WaitForFunctionAsync("() => window.__console.shell.stdoutOffset > 0", null, new PageWaitForFunctionOptions { Timeout = (float)Wait.TotalMilliseconds });
    }

    private static async Task TypeAsync(IPage page, string line)
    {
        await page.Locator("#terminal .xterm").ClickAsync();
        await page.Keyboard.TypeAsync(line);
        await page.Keyboard.PressAsync("Enter");
    }

    private static Task<string> TerminalTextAsync(IPage page) => page.EvaluateAsync<string>("() => window.__console.shell.text()");

    private static async Task WaitForTerminalAsync(IPage page, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        string text = "";
        while (DateTime.UtcNow < deadline)
        {
            text = await TerminalTextAsync(page);
            if (condition(text))
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail("The terminal never showed the expected output. It shows:\n" + text);
    }
}

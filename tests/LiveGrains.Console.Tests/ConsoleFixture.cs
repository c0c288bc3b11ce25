using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;

namespace LiveGrains.Console.Tests;

/// <summary>
/// The real gateway (co-hosted silo, in-memory state) listening with Kestrel on a free loopback port, because a
/// browser needs a real socket, and one headless Debian chromium driven by Playwright. Shared by the collection;
/// each test opens its own browser context (its own sessionStorage) and uses fresh room ids.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string AcmeKey = "key-acme-console-0123456789";

    /// <summary>A second tenant, whose console shows only its own lives (the screenshot's data).</summary>
    public const string StudioKey = "key-studio-console-0123456789";

    /// <summary>Debian's chromium; LIVEGRAINS_CHROMIUM points elsewhere when a machine keeps it somewhere else.</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("LIVEGRAINS_CHROMIUM") is { Length: > 0 } path
        ? path
        : "/usr/bin/chromium";

    private readonly ConsoleGateway _gateway = new();
    private IPlaywright? _playwright;

    public Uri BaseAddress => _gateway.BaseAddress;

    public IBrowser Browser { get; private set; } = null!;

    public HttpClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The console's browser tests need Chromium at {ChromiumPath}: run ./test.sh (it apt-get installs 'chromium') " +
                "or `apt-get install chromium`, or set LIVEGRAINS_CHROMIUM to a Chromium executable.");
        }

        _gateway.Start();
        Api = new HttpClient { BaseAddress = BaseAddress };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AcmeKey);

        // Never let Playwright fetch a browser of its own, whatever the environment says.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        Api?.Dispose();
        await _gateway.DisposeAsync();
    }

    /// <summary>A fresh browser tab on the console, signed in with <paramref name="key"/> (or signed out when null).</summary>
    public async Task<IPage> OpenConsoleAsync(string? key = AcmeKey)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/");
        if (key is not null)
        {
            await page.GetByLabel("API key").FillAsync(key);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console sections" })).ToBeVisibleAsync();
        }

        return page;
    }

    public async Task<JsonElement> PostAsync(string path, object? body = null, string key = AcmeKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = JsonContent.Create(body ?? new { }, options: LiveGrainsJson.Options),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path} -> {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var response = await Api.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} -> {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    private sealed class ConsoleGateway : WebApplicationFactory<Program>
    {
        private readonly int _port = FreePort.Next();

        public ConsoleGateway() => UseKestrel(o => o.Listen(IPAddress.Loopback, _port));

        public Uri BaseAddress => new($"http://127.0.0.1:{_port}/");

        public void Start() => StartServer();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.UseSetting("Auth:ApiKeys:" + AcmeKey, "acme");
            builder.UseSetting("Auth:ApiKeys:" + StudioKey, "studio");
            builder.UseSetting("Orleans:SiloPort", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Orleans:GatewayPort", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Orleans:ClusterId", "console-tests-" + Guid.NewGuid().ToString("N"));

            // The webhooks page test registers an endpoint on loopback.
            builder.UseSetting("Webhooks:AllowPrivateNetworks", "true");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}

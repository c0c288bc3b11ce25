using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace LiveGrains.Console.Tests;

/// <summary>The web console in a real headless Chromium against the real gateway: what an operator sees and clicks.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleBrowserTests(ConsoleFixture fixture)
{
    private static readonly LocatorAssertionsToHaveTextOptions Soon = new() { Timeout = 10_000 };

    [Fact]
    public async Task GoLiveFromTheConsoleThenViewersJoiningThroughTheApiChangeTheLiveNowCount()
    {
        var roomId = ConsoleFixture.Unique("console-room");
        await fixture.PostAsync("/v1/rooms", new { room_id = roomId, title = "Console go-live" });
        var page = await fixture.OpenConsoleAsync();

        await page.GotoAsync($"/console/#/rooms/{roomId}");
        await page.GetByLabel("Live title (optional)").FillAsync("Launch stream");
        await page.GetByRole(AriaRole.Button, new() { Name = "Go live", Exact = true }).ClickAsync();
        await Expect(page.Locator("#live-status")).ToHaveTextAsync("live", Soon);
        var liveId = Uri.UnescapeDataString(page.Url[(page.Url.IndexOf("#/lives/", StringComparison.Ordinal) + "#/lives/".Length)..]);
        Assert.Equal("live", (await fixture.GetAsync($"/v1/lives/{liveId}")).GetProperty("status").GetString());

        await page.GetByRole(AriaRole.Link, new() { Name = "Live now" }).ClickAsync();
        var row = page.Locator($"#live-now tr[data-live-id=\"{liveId}\"]");
        await Expect(row.Locator(".viewers")).ToHaveTextAsync("0", Soon);
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = "Launch stream" })).ToBeVisibleAsync();

        // Viewers arrive through the API, not the console: the page hears it on the live event stream.
        foreach (var viewer in new[] { "v1", "v2", "v3" })
        {
            await fixture.PostAsync($"/v1/lives/{liveId}/viewers/{viewer}/join");
        }

        await fixture.PostAsync($"/v1/lives/{liveId}/likes", new { count = 7 });
        await Expect(row.Locator(".viewers")).ToHaveTextAsync("3", Soon);
        await Expect(row.Locator(".likes")).ToHaveTextAsync("7", Soon);
        await Expect(row.Locator(".viewers")).ToHaveAttributeAsync("aria-live", "polite");

        await fixture.PostAsync($"/v1/lives/{liveId}/viewers/v3/leave");
        await Expect(row.Locator(".viewers")).ToHaveTextAsync("2", Soon);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task PauseResumeAndEndButtonsChangeTheStatusAndRecordWhoDidIt()
    {
        var roomId = ConsoleFixture.Unique("console-buttons");
        await fixture.PostAsync("/v1/rooms", new { room_id = roomId });
        var liveId = (await fixture.PostAsync($"/v1/rooms/{roomId}/go-live", new { title = "Buttons", started_by = "api-host" }))
            .GetProperty("live").GetProperty("live_id").GetString()!;
        var page = await fixture.OpenConsoleAsync();
        await page.GotoAsync($"/console/#/lives/{Uri.EscapeDataString(liveId)}");
        var status = page.Locator("#live-status");
        await Expect(status).ToHaveTextAsync("live", Soon);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToBeDisabledAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("paused", Soon);
        Assert.Equal("paused", (await fixture.GetAsync($"/v1/lives/{liveId}")).GetProperty("status").GetString());

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("live", Soon);

        await page.GetByRole(AriaRole.Button, new() { Name = "End" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("ended (ended)", Soon);
        var live = await fixture.GetAsync($"/v1/lives/{liveId}");
        Assert.Equal("ended", live.GetProperty("status").GetString());
        Assert.Equal("console", live.GetProperty("ended_by").GetString());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "End" })).ToBeDisabledAsync();

        // The transitions table shows who did what, the API's host first and the console after.
        var transitions = page.Locator("table:has(caption:text('Who did what')) tbody tr");
        await Expect(transitions).ToHaveCountAsync(4, new() { Timeout = 10_000 });
        await Expect(transitions.Nth(0)).ToContainTextAsync("api-host");
        await Expect(transitions.Nth(3)).ToContainTextAsync("console");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ABadKeyShowsAnErrorAndKeepsTheConsoleSignedOut()
    {
        var page = await fixture.OpenConsoleAsync(key: null);
        await page.GetByLabel("API key").FillAsync("not-a-real-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "not accepted" })).ToHaveTextAsync("That API key was not accepted (401 unauthorized).", Soon);
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Console sections" })).ToBeHiddenAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('livegrains.apiKey')"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TheConsoleLoadsWithoutAuthUnderAStrictContentSecurityPolicyButItsApiCallsNeedTheKey()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.BaseAddress };
        foreach (var path in new[] { "/console/", "/console/app.js", "/console/console.css" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        }

        using (var missing = await anonymous.GetAsync("/console/secrets.json"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var api = await anonymous.GetAsync("/v1/lives?status=live&order=viewer_count"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        }

        // The key the console signs in with never leaves the tab's session storage for anything persistent.
        var page = await fixture.OpenConsoleAsync();
        Assert.Equal(ConsoleFixture.AcmeKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('livegrains.apiKey')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('livegrains.apiKey')"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task StreamsPageShowsTheConnectionStatusOBSUrlsAndRotatesTheKey()
    {
        var roomId = ConsoleFixture.Unique("console-streams");
        await fixture.PostAsync("/v1/rooms", new { room_id = roomId });
        var stream = await fixture.PostAsync("/v1/streams", new { room_id = roomId });
        var streamId = stream.GetProperty("stream_id").GetString()!;
        var oldKey = stream.GetProperty("stream_key").GetString()!;
        var page = await fixture.OpenConsoleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Streams" }).ClickAsync();
        var row = page.Locator($"tr[data-stream-id=\"{streamId}\"]");
        await Expect(row).ToContainTextAsync("idle", new() { Timeout = 10_000 });
        await Expect(row).ToContainTextAsync(stream.GetProperty("rtmp_url").GetString()!);
        await row.GetByRole(AriaRole.Button, new() { Name = $"Rotate the key of {streamId}" }).ClickAsync();
        var shown = page.Locator(".secret code");
        await Expect(shown).ToBeVisibleAsync();
        var newKey = await shown.TextContentAsync();
        Assert.False(string.IsNullOrEmpty(newKey));
        Assert.NotEqual(oldKey, newKey);
        Assert.Equal(2, (await fixture.GetAsync($"/v1/streams/{streamId}")).GetProperty("key_version").GetInt32());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task WebhooksPageShowsTheDeliveryLogAndRedelivers()
    {
        var hook = await fixture.PostAsync("/v1/webhooks", new { url = $"http://127.0.0.1:9/{ConsoleFixture.Unique("hook")}" });
        var hookId = hook.GetProperty("webhook_id").GetString()!;
        var test = await fixture.PostAsync($"/v1/webhooks/{hookId}/test");
        var eventId = test.GetProperty("event_id").GetString()!;
        var attempts = test.GetProperty("attempts").GetInt32();
        var page = await fixture.OpenConsoleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Webhooks" }).ClickAsync();
        var row = page.Locator($"tr:has-text(\"{eventId}\")");
        await Expect(row).ToContainTextAsync("webhook.test", new() { Timeout = 10_000 });
        await row.GetByRole(AriaRole.Button, new() { Name = $"Redeliver {eventId}" }).ClickAsync();

        // The redelivery is queued and attempted: the log (API and page) shows one more attempt.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        int now;
        while ((now = (await fixture.GetAsync($"/v1/webhooks/{hookId}/deliveries")).GetProperty("items").EnumerateArray()
            .First(d => d.GetProperty("event_id").GetString() == eventId).GetProperty("attempts").GetInt32()) <= attempts)
        {
            Assert.True(DateTime.UtcNow < deadline, "the redelivery was not attempted");
            await Task.Delay(100);
        }

        await page.GetByRole(AriaRole.Link, new() { Name = "Live now" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Webhooks" }).ClickAsync();
        await Expect(page.Locator($"tr:has-text(\"{eventId}\") td.num").First).ToHaveTextAsync(now.ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 10_000 });
        await page.Context.CloseAsync();
    }
}

using LiveGrains.Testing;
using static Microsoft.Playwright.Assertions;

namespace LiveGrains.Console.Tests;

/// <summary>
/// The README's picture of the console: a tenant with several lives on air, taken by Playwright. The test also
/// checks what the picture claims: the live-now page lists only this tenant's lives, most viewers first. The PNG is
/// written under the test output; with LIVEGRAINS_UPDATE_SCREENSHOT=1 it also replaces docs/console.png.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleScreenshotTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task LiveNowListsTheTenantsLivesMostViewersFirst()
    {
        var shows = new (string Room, string Title, int Viewers, int Likes, int Chat)[]
        {
            ("main-stage", "Keynote: shipping LiveGrains", 42, 310, 128),
            ("workshop-b", "Hands-on: Orleans grains", 17, 54, 61),
            ("community", "Office hours", 5, 12, 9),
            ("late-night", "Late-night lo-fi coding", 23, 88, 40),
        };
        var suffix = Guid.NewGuid().ToString("N")[..4];
        var liveIds = new List<string>();
        foreach (var show in shows)
        {
            var room = $"{show.Room}-{suffix}";
            await fixture.PostAsync("/v1/rooms", new { room_id = room, title = show.Title }, ConsoleFixture.StudioKey);
            var liveId = (await fixture.PostAsync($"/v1/rooms/{room}/go-live", new { title = show.Title, started_by = "host" }, ConsoleFixture.StudioKey))
                .GetProperty("live").GetProperty("live_id").GetString()!;
            liveIds.Add(liveId);
            await fixture.PostAsync($"/v1/lives/{liveId}/activity", new
            {
                joins = Enumerable.Range(0, show.Viewers).Select(i => $"viewer-{i}").ToArray(),
                likes = show.Likes,
                chat_messages = show.Chat,
            }, ConsoleFixture.StudioKey);
        }

        var page = await fixture.OpenConsoleAsync(ConsoleFixture.StudioKey);
        var rows = page.Locator("#live-now tbody tr");

        // The listing reflects stats within 2 s; the page re-reads it every 5 s.
        await Expect(rows.Locator(".viewers")).ToHaveTextAsync(["42", "23", "17", "5"], new() { Timeout = 15_000 });
        await Expect(rows.First).ToContainTextAsync("Keynote: shipping LiveGrains");
        await Expect(rows).ToHaveCountAsync(shows.Length);

        var png = await page.ScreenshotAsync(new() { FullPage = true });
        Assert.True(png.Length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG screenshot");
        var output = Path.Combine(AppContext.BaseDirectory, "console.png");
        await File.WriteAllBytesAsync(output, png);
        if (Environment.GetEnvironmentVariable("LIVEGRAINS_UPDATE_SCREENSHOT") == "1")
        {
            await File.WriteAllBytesAsync(Path.Combine(RepoPaths.Root, "docs", "console.png"), png);
        }

        await page.Context.CloseAsync();
    }
}

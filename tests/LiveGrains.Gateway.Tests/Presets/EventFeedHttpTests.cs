using System.Text.Json;
using LiveGrains.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace LiveGrains.Gateway.Tests.Presets;

/// <summary>The pull event feed (api.md "Event feed").</summary>
[Collection(GatewayCollection.Name)]
public sealed class EventFeedHttpTests(GatewayFactory factory)
{
    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);

    [Fact]
    public async Task TheFeedHoldsEveryEventWithItsIdInOrderPerResourceAndPagesWithoutGapsOrRepeats()
    {
        // The feed is tenant-wide and other tests share the tenant: start from the feed's current end.
        var start = await EndCursorAsync(_acme);
        var roomId = await _acme.CreateRoomAsync();
        var liveId = (await _acme.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        await (await _acme.PostAsync($"/v1/lives/{liveId}/pause", null)).OkJsonAsync();
        await (await _acme.PostAsync($"/v1/lives/{liveId}/host/enter", null)).OkJsonAsync();
        await (await _acme.PostAsync($"/v1/lives/{liveId}/resume", null)).OkJsonAsync();
        await (await _acme.PostAsync($"/v1/lives/{liveId}/end", null)).OkJsonAsync();

        // Read one event a page: every page's cursor leads to the next, and nothing shows twice.
        var mine = await Eventually.ValueAsync(async () =>
        {
            var (items, _) = await ReadAllAsync(_acme, start, pageSize: 1);
            return items.Where(e => Resource(e) == liveId || Resource(e) == roomId).ToList();
        }, items => items.Count == 6, TimeSpan.FromSeconds(10), "the room's and the live's 6 events in the feed");

        // Order is per resource (a room and its lives may sit in different shards, merged by time).
        Assert.Equal(["room.created"], mine.Where(e => Resource(e) == roomId).Select(e => e.GetProperty("type").GetString()));
        var live = mine.Where(e => Resource(e) == liveId).ToList();
        Assert.Equal(["live.started", "live.paused", "live.host_entered", "live.resumed", "live.ended"], live.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal([1L, 2, 3, 4, 5], live.Select(e => e.GetProperty("data").GetProperty("sequence").GetInt64()));
        Assert.All(mine, e => Assert.StartsWith("evt_", e.GetProperty("id").GetString(), StringComparison.Ordinal));
        Assert.Equal(mine.Count, mine.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal("ended", live[^1].GetProperty("data").GetProperty("end_reason").GetString());

        // The type filter, the cursor's validation, and tenant isolation.
        var ended = (await ReadAllAsync(_acme, start, pageSize: 100, types: "live.ended")).Items;
        Assert.Contains(ended, e => Resource(e) == liveId);
        Assert.All(ended, e => Assert.Equal("live.ended", e.GetProperty("type").GetString()));
        await (await _acme.GetAsync("/v1/events?after=nonsense")).ValidationProblemAsync("after");
        await (await _acme.GetAsync("/v1/events?types=live.exploded")).ValidationProblemAsync("types");
        await (await _acme.GetAsync("/v1/events?limit=0")).ValidationProblemAsync("limit");
        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        Assert.DoesNotContain((await ReadAllAsync(globex, null, pageSize: 100)).Items, e => Resource(e) == liveId);
    }

    [Fact]
    public async Task ACursorReadsOnAfterTheFeedsGrainsAreReloadedFromStorage()
    {
        var start = await EndCursorAsync(_acme);
        var roomId = await _acme.CreateRoomAsync();
        var first = await Eventually.ValueAsync(
            async () => await ReadAllAsync(_acme, start, 100), r => r.Items.Any(e => Resource(e) == roomId), TimeSpan.FromSeconds(10), "room.created");

        // Every idle activation goes (the feed shards reload their state and positions from storage).
        var grains = factory.Services.GetRequiredService<IGrainFactory>();
        await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var liveId = (await _acme.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        var next = await Eventually.ValueAsync(
            async () => await ReadAllAsync(_acme, first.Cursor, 100), r => r.Items.Any(e => Resource(e) == liveId), TimeSpan.FromSeconds(10), "live.started");
        Assert.DoesNotContain(next.Items, e => Resource(e) == roomId);
        Assert.Empty(next.Items.Select(e => e.GetProperty("id").GetString()).Intersect(first.Items.Select(e => e.GetProperty("id").GetString())));
    }

    private static string? Resource(JsonElement e)
    {
        var data = e.GetProperty("data");
        return data.TryGetProperty("live_id", out var live) ? live.GetString() : data.TryGetProperty("room_id", out var room) ? room.GetString() : null;
    }

    private static async Task<string?> EndCursorAsync(HttpClient client) => (await ReadAllAsync(client, null, 100)).Cursor;

    private static async Task<(List<JsonElement> Items, string? Cursor)> ReadAllAsync(HttpClient client, string? after, int pageSize, string? types = null)
    {
        var items = new List<JsonElement>();
        while (true)
        {
            var url = $"/v1/events?limit={pageSize}" + (after is null ? "" : "&after=" + after) + (types is null ? "" : "&types=" + types);
            var page = await (await client.GetAsync(url)).OkJsonAsync();
            var got = page.GetProperty("items").EnumerateArray().ToList();
            items.AddRange(got);
            var cursor = page.GetProperty("next_cursor").GetString();
            if (cursor == after)
            {
                return (items, cursor);
            }

            after = cursor;
        }
    }
}

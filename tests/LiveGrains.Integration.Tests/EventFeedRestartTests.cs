using System.Net;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests;

/// <summary>The event feed's cursor across a whole-cluster restart on Redis: no gap, no repeat.</summary>
[Collection("real cluster")]
public sealed class EventFeedRestartTests
{
    [Fact]
    public async Task ACursorTakenBeforeTheClusterRestartsReadsOnWithoutAGapOrARepeat()
    {
        await using var cluster = await RealCluster.StartAsync(StorageBackend.Redis);
        var client = cluster.Clients[0];
        var roomId = "feed-" + Guid.NewGuid().ToString("N")[..10];
        await client.SendAsync(HttpMethod.Post, "/v1/rooms", $$"""{"room_id":"{{roomId}}"}""").ExpectAsync(HttpStatusCode.Created);
        var liveId = (await client.SendAsync(HttpMethod.Post, $"/v1/rooms/{roomId}/go-live", "{}").ExpectAsync(HttpStatusCode.Created)).GetProperty("live").Id("live_id");
        await client.SendAsync(HttpMethod.Post, $"/v1/lives/{liveId}/pause", "{}").ExpectAsync(HttpStatusCode.OK);

        // Read part of the feed (3 events of 3) and keep its cursor.
        var before = await Eventually.ValueAsync(() => ReadAllAsync(client, null), r => r.Items.Count == 3, TimeSpan.FromSeconds(15), "3 events before the restart");

        await cluster.StopEverythingAsync();
        await cluster.StartProcessesAsync();

        client = cluster.Clients[1];
        await client.SendAsync(HttpMethod.Post, $"/v1/lives/{liveId}/resume", "{}").ExpectAsync(HttpStatusCode.OK);
        await client.SendAsync(HttpMethod.Post, $"/v1/lives/{liveId}/end", "{}").ExpectAsync(HttpStatusCode.OK);
        var after = await Eventually.ValueAsync(() => ReadAllAsync(client, before.Cursor), r => r.Items.Count >= 2, TimeSpan.FromSeconds(15), "the 2 events after the restart");

        var all = before.Items.Concat(after.Items).ToList();
        Assert.Equal(5, all.Count);
        Assert.Equal(all.Count, all.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        var live = all.Where(e => e.GetProperty("data").TryGetProperty("live_id", out _)).ToList();
        Assert.Equal([1L, 2, 3, 4], live.Select(e => e.GetProperty("data").GetProperty("sequence").GetInt64()));
        Assert.Equal(["live.started", "live.paused", "live.resumed", "live.ended"], live.Select(e => e.GetProperty("type").GetString()));

        // And the whole feed read from the start, after the restart, is the same 5 events in the same order.
        var whole = await ReadAllAsync(client, null);
        Assert.Equal(all.Select(e => e.GetProperty("id").GetString()), whole.Items.Select(e => e.GetProperty("id").GetString()));
    }

    private static async Task<(List<JsonElement> Items, string? Cursor)> ReadAllAsync(HttpClient client, string? after)
    {
        var items = new List<JsonElement>();
        while (true)
        {
            var page = await client.SendAsync(HttpMethod.Get, "/v1/events?limit=2" + (after is null ? "" : "&after=" + after)).ExpectAsync(HttpStatusCode.OK);
            items.AddRange(page.GetProperty("items").EnumerateArray());
            var cursor = page.GetProperty("next_cursor").GetString();
            if (cursor == after)
            {
                return (items, cursor);
            }

            after = cursor;
        }
    }
}

using LiveGrains.Client;
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
        var client = cluster.ApiClients[0];
        var roomId = "feed-" + Guid.NewGuid().ToString("N")[..10];
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var liveId = (await client.GoLiveAsync(roomId)).Live.LiveId;
        await client.PauseAsync(liveId);

        // Read part of the feed (3 events of 3) and keep its cursor.
        var before = await Eventually.ValueAsync(() => ReadAllAsync(client, null), r => r.Items.Count == 3, TimeSpan.FromSeconds(15), "3 events before the restart");

        await cluster.StopEverythingAsync();
        await cluster.StartProcessesAsync();

        client = cluster.ApiClients[1];
        await client.ResumeAsync(liveId);
        await client.EndAsync(liveId);
        var after = await Eventually.ValueAsync(() => ReadAllAsync(client, before.Cursor), r => r.Items.Count >= 2, TimeSpan.FromSeconds(15), "the 2 events after the restart");

        var all = before.Items.Concat(after.Items).ToList();
        Assert.Equal(5, all.Count);
        Assert.Equal(all.Count, all.Select(e => e.Id).Distinct().Count());
        var live = all.Where(e => e.Data.TryGetProperty("live_id", out _)).ToList();
        Assert.Equal([1L, 2, 3, 4], live.Select(e => e.Data.GetProperty("sequence").GetInt64()));
        Assert.Equal(["live.started", "live.paused", "live.resumed", "live.ended"], live.Select(e => e.Type));

        // And the whole feed read from the start, after the restart, is the same 5 events in the same order.
        var whole = await ReadAllAsync(client, null);
        Assert.Equal(all.Select(e => e.Id), whole.Items.Select(e => e.Id));
    }

    /// <summary>Pages of 2 until the cursor stands still; returns the events and the cursor to read on from.</summary>
    private static async Task<(List<FeedEvent> Items, string? Cursor)> ReadAllAsync(LiveGrainsClient client, string? after)
    {
        var items = new List<FeedEvent>();
        while (true)
        {
            var page = await client.ListEventsAsync(after, limit: 2);
            items.AddRange(page.Items);
            if (page.NextCursor == after)
            {
                return (items, after);
            }

            after = page.NextCursor;
        }
    }
}

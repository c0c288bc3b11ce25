using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Tests.Feed;

/// <summary>
/// A feed shard across sealed pages: positions have no gaps, a read from any position continues exactly after it
/// (pages are found by arithmetic on positions), a replayed event is held once, and pages past the retention go.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EventFeedShardTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ReadsFromAnyPositionContinueAcrossSealedPagesAndExpiredPagesGo()
    {
        var shard = fixture.Client.GetGrain<IEventFeedShardGrain>(TenantKey.Compose("t-" + Guid.NewGuid().ToString("N")[..12], "0"));
        var count = (EventFeed.PageSize * 3) + 5;
        var events = Enumerable.Range(0, count).Select(Event).ToArray();
        foreach (var batch in events.Chunk(7))
        {
            await shard.AppendAsync(batch);
        }

        await shard.AppendAsync(events[^3..]); // a replay of events in the open page: ignored by id
        await shard.AppendAsync(events[(EventFeed.PageSize - 2)..(EventFeed.PageSize + 2)]); // across a sealed page's end

        // A new activation (after a restart) still recognises replays of sealed events.
        await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await shard.AppendAsync(events[(EventFeed.PageSize * 2)..((EventFeed.PageSize * 2) + 3)]);

        var all = await shard.ReadAsync(0, 1_000);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), all.Select(e => e.Position));
        Assert.Equal(events.Select(e => e.EventId), all.Select(e => e.Event.EventId));

        foreach (var after in new long[] { 0, 1, EventFeed.PageSize - 1, EventFeed.PageSize, EventFeed.PageSize + 1, (EventFeed.PageSize * 2) + 3, count - 1 })
        {
            var page = await shard.ReadAsync(after, 10);
            Assert.Equal(Enumerable.Range((int)after + 1, Math.Min(10, all.Length - (int)after)).Select(i => (long)i), page.Select(e => e.Position));
        }

        // Past the retention the sealed pages go with the next seal; what is read then starts at the first kept event.
        fixture.Time.Advance(EventFeed.Retention + TimeSpan.FromHours(1));
        var fresh = Enumerable.Range(count, EventFeed.PageSize).Select(Event).ToArray();
        await shard.AppendAsync(fresh);
        var kept = await shard.ReadAsync(0, 1_000);
        Assert.Equal(fresh.Select(e => e.EventId), kept.Select(e => e.Event.EventId));
    }

    private ResourceEvent Event(int i) =>
        new($"evt_{i:00000}", EventTypes.RoomCreated, "t", "room", "r" + (i % 5), i, fixture.Time.GetUtcNow(), "{}");
}

using LiveGrains.Abstractions;
using LiveGrains.Grains.Stats;
using LiveGrains.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace LiveGrains.Grains.Tests.Stats;

/// <summary>
/// The statistics' write-behind interval is a rule on LiveGrains' clock (issue 10): with an interval of an hour of a
/// fake clock, only advancing the clock writes them, within a tick (a real second), never waiting out the hour.
/// </summary>
[Collection(FakeClockCollection.Name)]
public sealed class StatsPersistIntervalTests(FakeClockClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AppliedActivityIsWrittenBehindOnceThePersistIntervalHasPassedOnTheClock()
    {
        var (_, room) = await fixture.Client.NewRoomAsync();
        var liveId = (await room.GoLiveAsync(new GoLiveCommand("t", null))).Value().Live.LiveId;
        var recorded = await fixture.Client.GetGrain<ILiveActivityGrain>(liveId)
            .RecordAsync(GrainTestKit.Acme, new ActivityRequest(Joins: ["a", "b", "c"], Likes: 2));
        Assert.True(recorded.IsSuccess);
        var stats = fixture.Client.GetGrain<ILiveStatsGrain>(liveId);
        await Eventually.TrueAsync(async () => (await stats.GetStatsAsync(GrainTestKit.Acme)).Value!.LikeCount == 2, Timeout, "the activity to be applied");

        // Applied, not written: the clock has not moved.
        Assert.Equal((0, 0), await StoredAsync(liveId));

        fixture.Time.Advance(TimeSpan.FromSeconds(FakeClockClusterFixture.PersistIntervalSeconds));
        await Eventually.TrueAsync(
            async () => await StoredAsync(liveId) == (3, 2),
            Timeout,
            "the write-behind once the clock passed the persist interval");
    }

    /// <summary>The views and likes in storage.</summary>
    private async Task<(long Views, long Likes)> StoredAsync(string liveId)
    {
        var storage = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(LiveGrainsStorage.State);
        var stored = new GrainState<LiveStatsState>(new LiveStatsState());
        await storage.ReadStateAsync("stats", GrainId.Create("livestats", liveId), stored);
        return stored.State is { } s ? (s.ViewCount, s.LikeCount) : (0, 0);
    }
}

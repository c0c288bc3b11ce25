using LiveGrains.Abstractions;
using LiveGrains.Grains.Stats;
using LiveGrains.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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
        var liveId = await GoLiveAsync();
        await RecordAppliedAsync(liveId, new ActivityRequest(Joins: ["a", "b", "c"], Likes: 2), likesThen: 2);

        // Applied, not written: the clock has not moved.
        Assert.Equal((0, 0), await StoredAsync(liveId));

        fixture.Time.Advance(TimeSpan.FromSeconds(FakeClockClusterFixture.PersistIntervalSeconds));
        await Eventually.TrueAsync(
            async () => await StoredAsync(liveId) == (3, 2),
            Timeout,
            "the write-behind once the clock passed the persist interval");
    }

    /// <summary>
    /// The silo's write budget spent (as by many lives' writes in flight): a due write-behind stays in memory, tick after
    /// tick, and lands on a tick once the budget frees; nothing is lost meanwhile. The end's frozen stats do not wait.
    /// </summary>
    [Fact]
    public async Task AWriteBehindWaitsWhileTheSilosWriteBudgetIsSpentAndTheEndsWriteDoesNot()
    {
        var silo = fixture.Cluster.Silos[0].ServiceProvider;
        var budget = silo.GetRequiredService<StatsWriteBudget>();
        var all = silo.GetRequiredService<IOptions<StatsOptions>>().Value.WriteBehindBytesInFlight;
        var liveId = await GoLiveAsync();
        await RecordAppliedAsync(liveId, new ActivityRequest(Joins: ["a", "b", "c"], Likes: 2), likesThen: 2);

        Assert.True(await budget.ReserveAsync(all));
        try
        {
            fixture.Time.Advance(TimeSpan.FromSeconds(FakeClockClusterFixture.PersistIntervalSeconds));

            // Due now, and refused on each tick (about one a second) while the budget stays spent.
            await Task.Delay(TimeSpan.FromSeconds(3.5));
            Assert.Equal((0, 0), await StoredAsync(liveId));
            Assert.Equal(2, (await fixture.Client.GetGrain<ILiveStatsGrain>(liveId).GetStatsAsync(GrainTestKit.Acme)).Value!.LikeCount);
        }
        finally
        {
            budget.Release(all);
        }

        await Eventually.TrueAsync(async () => await StoredAsync(liveId) == (3, 2), Timeout, "the write-behind on a tick after the budget freed");

        // Spent again: the end still freezes and stores the stats at once.
        await RecordAppliedAsync(liveId, new ActivityRequest(Joins: ["d"], Likes: 1), likesThen: 3);
        Assert.True(await budget.ReserveAsync(all));
        try
        {
            var ended = await fixture.Client.TransitionLiveAsync(GrainTestKit.Acme, liveId, new LiveCommand(LiveCommandKind.End));
            Assert.Equal(LiveStatus.Ended, ended.Value!.Status);
            await Eventually.TrueAsync(async () => await StoredAsync(liveId) == (4, 3), Timeout, "the frozen stats stored while the budget is spent");
        }
        finally
        {
            budget.Release(all);
        }
    }

    private async Task<string> GoLiveAsync()
    {
        var (_, room) = await fixture.Client.NewRoomAsync();
        return (await room.GoLiveAsync(new GoLiveCommand("t", null))).Value().Live.LiveId;
    }

    /// <summary>Records the activity and waits until the live's statistics applied it (in memory: nothing is written yet).</summary>
    private async Task RecordAppliedAsync(string liveId, ActivityRequest activity, long likesThen)
    {
        Assert.True((await fixture.Client.GetGrain<ILiveActivityGrain>(liveId).RecordAsync(GrainTestKit.Acme, activity)).IsSuccess);
        var stats = fixture.Client.GetGrain<ILiveStatsGrain>(liveId);
        await Eventually.TrueAsync(async () => (await stats.GetStatsAsync(GrainTestKit.Acme)).Value!.LikeCount == likesThen, Timeout, "the activity to be applied");
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

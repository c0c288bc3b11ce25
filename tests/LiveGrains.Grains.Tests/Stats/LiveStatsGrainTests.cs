using LiveGrains.Abstractions;
using LiveGrains.Grains.Stats;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests.Stats;

[Collection(ClusterCollection.Name)]
public sealed class LiveStatsGrainTests(ClusterFixture fixture)
{
    private const string Tenant = "acme";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task ConcurrentJoinsHeartbeatsAndLeavesFromManyTasksCountExactly()
    {
        var liveId = await GoLiveAsync();

        // 40 tasks x 50 viewers: each joins (twice), heartbeats, and every other one leaves; the client spreads
        // the stateless workers' calls over both silos' gateways.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(async t =>
        {
            for (var v = 0; v < 50; v++)
            {
                var id = $"t{t}-v{v}";
                Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: [id]))).IsSuccess);
                Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: [id], Heartbeats: [id], Likes: 1))).IsSuccess);
                if (v % 2 == 0)
                {
                    Assert.True((await RecordAsync(liveId, new ActivityRequest(Leaves: [id], ChatMessages: 2))).IsSuccess);
                }
            }
        }));

        var stats = await StatsWhenAsync(liveId, s => s.LikeCount == 2000 && s.ChatMessageCount == 2000);
        Assert.Equal(1000, stats.ViewerCount);
        Assert.Equal(2000, stats.UniqueViewerCount);
        Assert.Equal(2000, stats.ViewCount);
        Assert.InRange(stats.PeakViewerCount, 1000, 2000);
        Assert.NotNull(stats.PeakAt);
    }

    [Fact]
    public async Task RejoinsCountAsViewsButNotAsUniqueViewersAndThePeakKeepsItsHighWaterMark()
    {
        var liveId = await GoLiveAsync();

        await RecordAsync(liveId, new ActivityRequest(Joins: ["a", "b", "c"]));
        var peak = await StatsWhenAsync(liveId, s => s.ViewerCount == 3);
        await RecordAsync(liveId, new ActivityRequest(Leaves: ["a", "b"]));
        await RecordAsync(liveId, new ActivityRequest(Joins: ["a", "c", "c"], Likes: 1));

        var stats = await StatsWhenAsync(liveId, s => s.LikeCount == 1);
        Assert.Equal(2, stats.ViewerCount);
        Assert.Equal(3, stats.PeakViewerCount);
        Assert.Equal(peak.PeakAt, stats.PeakAt);
        Assert.Equal(3, stats.UniqueViewerCount);
        Assert.Equal(4, stats.ViewCount);
    }

    [Fact]
    public async Task ViewersExpireAfterTheTimeoutUnlessTheyHeartbeat()
    {
        var liveId = await GoLiveAsync();

        await RecordAsync(liveId, new ActivityRequest(Joins: ["stays", "goes"]));
        await StatsWhenAsync(liveId, s => s.ViewerCount == 2);

        fixture.Time.Advance(TimeSpan.FromSeconds(40));
        await RecordAsync(liveId, new ActivityRequest(Heartbeats: ["stays"], Likes: 1));
        await StatsWhenAsync(liveId, s => s.LikeCount == 1);

        fixture.Time.Advance(TimeSpan.FromSeconds(21));
        var stats = await StatsAsync(liveId);
        Assert.Equal(1, stats.ViewerCount);
        Assert.Equal(2, stats.PeakViewerCount);

        fixture.Time.Advance(TimeSpan.FromSeconds(40));
        stats = await StatsAsync(liveId);
        Assert.Equal(0, stats.ViewerCount);
        Assert.Equal(2, stats.UniqueViewerCount);
        Assert.Equal(2, stats.ViewCount);

        // A heartbeat after expiry brings the viewer back: it is evidently watching.
        await RecordAsync(liveId, new ActivityRequest(Heartbeats: ["goes"]));
        stats = await StatsWhenAsync(liveId, s => s.ViewerCount == 1);
        Assert.Equal(2, stats.UniqueViewerCount);
    }

    [Fact]
    public async Task EndingFreezesTheStatsWithEverythingAcceptedAndRefusesMoreWithLiveEnded()
    {
        var liveId = await GoLiveAsync();

        // No waiting for the flush: the end itself drains what the silos accepted.
        await RecordAsync(liveId, new ActivityRequest(Joins: ["a", "b", "c"], Likes: 5, ChatMessages: 7));
        var ended = await Live(liveId).TransitionAsync(Tenant, new LiveCommand(LiveCommandKind.End));
        Assert.Equal(LiveStatus.Ended, ended.Value!.Status);

        var refused = await RecordAsync(liveId, new ActivityRequest(Joins: ["d"], Likes: 1));
        Assert.Equal(DomainErrorCode.LiveEnded, refused.Error?.Code);

        fixture.Time.Advance(TimeSpan.FromSeconds(600));
        var stats = await StatsAsync(liveId);
        Assert.Equal(new StatsDto(3, 3, stats.PeakAt, 3, 3, 5, 7, stats.DurationSeconds), stats);
        Assert.Equal(stats, (await Live(liveId).GetAsync(Tenant)).Value!.Stats);
    }

    [Fact]
    public async Task AScheduledLiveRefusesActivityUntilReadyAndAnotherTenantFindsNothing()
    {
        var roomId = await CreateRoomAsync();
        var live = (await Room(roomId).ScheduleLiveAsync(new ScheduleLiveCommand(null, null))).Value!;

        Assert.Equal(DomainErrorCode.InvalidTransition, (await RecordAsync(live.LiveId, new ActivityRequest(Joins: ["a"]))).Error?.Code);

        await Live(live.LiveId).TransitionAsync(Tenant, new LiveCommand(LiveCommandKind.Ready));
        Assert.True((await RecordAsync(live.LiveId, new ActivityRequest(Joins: ["a"]))).IsSuccess);
        await StatsWhenAsync(live.LiveId, s => s.ViewerCount == 1);

        Assert.Equal(DomainErrorCode.NotFound, (await Grains.GetGrain<ILiveActivityGrain>(live.LiveId).RecordAsync("globex", new ActivityRequest(Joins: ["x"]))).Error?.Code);
        Assert.Equal(DomainErrorCode.NotFound, (await Grains.GetGrain<ILiveStatsGrain>(live.LiveId).GetStatsAsync("globex")).Error?.Code);
        Assert.Equal(DomainErrorCode.NotFound, (await RecordAsync("lv_doesnotexist", new ActivityRequest(Joins: ["x"]))).Error?.Code);
    }

    [Fact]
    public async Task DurationCountsOnAirTimeOnlyAndTheLiveCarriesTheStats()
    {
        var liveId = await GoLiveAsync();
        fixture.Time.Advance(TimeSpan.FromSeconds(10));
        await Live(liveId).TransitionAsync(Tenant, new LiveCommand(LiveCommandKind.Pause));
        await RecordAsync(liveId, new ActivityRequest(Joins: ["paused-viewer"]));
        fixture.Time.Advance(TimeSpan.FromSeconds(20));
        await Live(liveId).TransitionAsync(Tenant, new LiveCommand(LiveCommandKind.Resume));
        fixture.Time.Advance(TimeSpan.FromSeconds(5));

        var stats = await StatsWhenAsync(liveId, s => s.ViewCount == 1);
        Assert.Equal(15, stats.DurationSeconds);
        var live = (await Live(liveId).GetAsync(Tenant)).Value!;
        Assert.Equal(15, live.DurationSeconds);
        Assert.Equal(stats, live.Stats);
    }

    /// <summary>
    /// A silo that missed the end (it was stopping while the live closed) flushes activity it acknowledged while the
    /// live was open: it counts into the totals of the ended live, and the frozen audience does not move (a rolling
    /// restart lost such joins when they were dropped).
    /// </summary>
    [Fact]
    public async Task ActivityAcknowledgedBeforeTheEndButFlushedAfterItStillCounts()
    {
        var liveId = await GoLiveAsync();
        await RecordAsync(liveId, new ActivityRequest(Joins: ["early"], Likes: 1));
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 1 && s.LikeCount == 1);
        Assert.True((await Grains.TransitionLiveAsync(Tenant, liveId, new LiveCommand(LiveCommandKind.End, null))).IsSuccess);
        // The stats watch this live, so the end reached them before it was acknowledged: they are frozen now.
        var frozen = await StatsAsync(liveId);

        var late = new ActivityBatch(ViewerOps.Encode(new ActivityRequest(Joins: ["late-1", "late-2", "late-1"])), Likes: 2, ChatMessages: 3);
        await Grains.GetGrain<ILiveStatsGrain>(liveId).ApplyAsync(late, null!);

        var stats = await StatsAsync(liveId);
        Assert.Equal(frozen.ViewerCount, stats.ViewerCount);
        Assert.Equal(frozen.PeakViewerCount, stats.PeakViewerCount);
        Assert.Equal(3, stats.UniqueViewerCount);
        Assert.Equal(frozen.ViewCount + 2, stats.ViewCount); // a join while present is not another view
        Assert.Equal(3, stats.LikeCount);
        Assert.Equal(3, stats.ChatMessageCount);
    }

    /// <summary>
    /// A push that activates a live's statistics (their silo died, or they were collected) makes them pull their
    /// subject while they activate, while the room's decision waits for that push: room -> stats -> live -> room. The
    /// pull interleaves with the room's turns, so neither that decision nor the ones queued behind it wait out the push
    /// (docs/chaos.md, session 10: after a silo kill this held a room for 10 s, until the push's call timed out).
    /// </summary>
    [Fact]
    public async Task APushThatActivatesTheStatisticsDoesNotHoldTheRoomsQueuedDecisions()
    {
        var roomId = await CreateRoomAsync();
        var first = (await Room(roomId).GoLiveAsync(new GoLiveCommand(null, null))).Value!.Live.LiveId;
        Assert.True((await RecordAsync(first, new ActivityRequest(Joins: ["viewer"]))).IsSuccess);
        await StatsWhenAsync(first, s => s.ViewerCount == 1);

        // Everything idle goes: the next decision reactivates the room, which watches its live again, and its push of
        // the superseded live activates that live's statistics.
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Room(roomId).GoLiveAsync(new GoLiveCommand(null, null, $"queued-{i}"))));
        clock.Stop();

        Assert.All(results, r => Assert.True(r.IsSuccess, r.Error?.Detail));

        // With the pull queued behind them, every decision waited up to 2 s for the stuck push, and the push's call
        // itself ran into its 10 s timeout: 6 decisions took 10-12 s. Now they take milliseconds.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"6 queued go-lives took {clock.Elapsed.TotalSeconds:0.0} s");

        // And the push reached the statistics: the superseded live takes no more activity.
        await Eventually.TrueAsync(
            async () => (await RecordAsync(first, new ActivityRequest(Joins: ["late"]))).Error?.Code == DomainErrorCode.LiveEnded,
            Timeout,
            "the superseded live's statistics to be frozen");
    }

    private Task<Result<ActivityReceipt>> RecordAsync(string liveId, ActivityRequest activity) =>
        Grains.GetGrain<ILiveActivityGrain>(liveId).RecordAsync(Tenant, activity);

    private async Task<StatsDto> StatsAsync(string liveId) =>
        (await Grains.GetGrain<ILiveStatsGrain>(liveId).GetStatsAsync(Tenant)).Value!;

    private Task<StatsDto> StatsWhenAsync(string liveId, Func<StatsDto, bool> accept) =>
        Eventually.ValueAsync(() => StatsAsync(liveId), accept, Timeout, "the stats to reflect the accepted activity");

    private ILiveGrain Live(string liveId) => Grains.GetGrain<ILiveGrain>(liveId);

    private IRoomGrain Room(string roomId) => Grains.GetGrain<IRoomGrain>(TenantKey.Compose(Tenant, roomId));

    private async Task<string> CreateRoomAsync()
    {
        var roomId = "room-" + Guid.NewGuid().ToString("N")[..10];
        var created = await Room(roomId).CreateAsync(new CreateRoomCommand(null, null, TakeoverPolicy.Takeover, 0));
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return roomId;
    }

    private async Task<string> GoLiveAsync()
    {
        var roomId = await CreateRoomAsync();
        var result = await Room(roomId).GoLiveAsync(new GoLiveCommand(null, null));
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value!.Live.LiveId;
    }
}

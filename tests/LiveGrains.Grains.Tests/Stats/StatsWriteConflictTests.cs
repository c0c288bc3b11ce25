using LiveGrains.Abstractions;
using LiveGrains.Grains.Stats;
using LiveGrains.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Runtime.Placement;
using Orleans.Storage;

namespace LiveGrains.Grains.Tests.Stats;

/// <summary>
/// During a rolling restart a live's stats grain can briefly have two activations (a directory handoff while a
/// silo stops) or a new activation that read before the old one's final write. Each holds part of the accepted
/// activity; the second writer's ETag no longer matches. It must merge what the other stored, never drop its part
/// (chaos: "40 distinct viewers got 202 joins but unique_viewer_count 20").
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class StatsWriteConflictTests(ClusterFixture fixture)
{
    private const string Tenant = "acme";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>The write-behind is due once this much of LiveGrains' clock (the fixture's fake one) has passed.</summary>
    private static readonly TimeSpan PersistInterval = TimeSpan.FromSeconds(new StatsOptions().PersistIntervalSeconds);

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AWriteConflictWithAnotherActivationMergesBothViewerSetsAndCountersInsteadOfLosingOne()
    {
        var liveId = await GoLiveAsync();

        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("a"), Likes: 1))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 20);

        // "Another activation" of the same live stores its own 20 viewers, 20 views and 2 likes behind this one's back.
        await WriteAsAnotherActivationAsync(liveId, Viewers("b"), likes: 2);

        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("c"), ChatMessages: 3))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.ChatMessageCount == 3);

        // The write-behind runs into the conflict and merges: storage then holds all three viewer sets. Then
        // deactivate everything: the next activation reads storage.
        fixture.Time.Advance(PersistInterval);
        await Eventually.TrueAsync(
            async () => HashSet64.FromBytes((await ReadStoredAsync(liveId)).Unique).Count == 60,
            Timeout, "the merged write to hold the viewers of both activations");
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var stats = await StatsAsync(liveId);
        Assert.Equal(60, stats.UniqueViewerCount);
        Assert.Equal(60, stats.ViewCount);
        Assert.Equal(60, stats.ViewerCount);
        Assert.Equal(3, stats.LikeCount);
        Assert.Equal(3, stats.ChatMessageCount);
    }

    /// <summary>
    /// A silo that stops gracefully loses its directory entries before its activations deactivate, so a new activation
    /// elsewhere can read the stats before the old one's last write lands, and then has nothing to write itself: no
    /// conflict would ever tell it (chaos, rolling restart: "40 distinct viewers got 202 joins but unique_viewer_count
    /// 20", no merge logged). The new activation reads storage again shortly after it started.
    /// </summary>
    [Fact]
    public async Task AWriteOfAPreviousActivationThatLandsAfterThisOneReadIsTakenInWithoutAnyNewActivity()
    {
        var liveId = await GoLiveAsync();

        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("a")))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 20);
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        // This activation reads 20 viewers; then the "previous activation" stores its last 20 behind its back.
        Assert.Equal(20, (await StatsAsync(liveId)).UniqueViewerCount);
        await WriteAsAnotherActivationAsync(liveId, Viewers("b"), likes: 0);

        var stats = await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 40);
        Assert.Equal(40, stats.ViewerCount);
        Assert.Equal(40, stats.ViewCount);
    }

    /// <summary>
    /// The other order during a rolling restart: the new activation ends the live and stores the frozen stats first,
    /// then the stopping activation's last write runs into the conflict. The frozen record used to drop its viewer set,
    /// so the merge could only take the larger of the two unique counts (chaos, rolling restart: "120 distinct viewers
    /// got 202 joins but unique_viewer_count 60"). It keeps the set now: the merge unites both, and activity flushed
    /// after the end counts each viewer once.
    /// </summary>
    [Fact]
    public async Task AWriteThatLandsAfterAnotherActivationFrozeTheLiveUnitesBothViewerSetsAndLateViewersCountOnce()
    {
        var liveId = await GoLiveAsync();

        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("a")))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 20);

        // "Another activation" saw only its own 20 viewers and froze the live: its record keeps their hashes.
        await WriteAsAnotherActivationAsync(liveId, Viewers("b"), likes: 0, frozen: true);

        // This activation still takes activity; its next write conflicts and merges into the frozen record.
        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("c")))).IsSuccess);
        fixture.Time.Advance(PersistInterval);
        var merged = await Eventually.ValueAsync(
            () => ReadStoredAsync(liveId), s => s.Frozen && s.UniqueViewerCount >= 60, Timeout, "the merged frozen record");
        Assert.Equal(60, merged.UniqueViewerCount);
        Assert.Equal(60, HashSet64.FromBytes(merged.Unique).Count);

        // Late activity: a viewer already counted and a new one.
        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: ["a0", "d0"]))).IsSuccess);
        fixture.Time.Advance(PersistInterval);
        await Eventually.TrueAsync(async () => (await ReadStoredAsync(liveId)).UniqueViewerCount == 61, Timeout, "the late viewer to be stored");

        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(61, (await StatsAsync(liveId)).UniqueViewerCount);
        var stored = await ReadStoredAsync(liveId);
        Assert.True(stored.Frozen);
        Assert.Empty(stored.Present);
        Assert.Equal(61, HashSet64.FromBytes(stored.Unique).Count);
    }

    [Fact]
    public async Task AnEndedLivesRecordKeepsItsViewerSetAndDropsWhoIsPresent()
    {
        var liveId = await GoLiveAsync(out var roomId);
        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: ["x", "y", "z"]))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 3);

        Assert.True((await Room(roomId).TransitionLiveAsync(liveId, new LiveCommand(LiveCommandKind.End))).IsSuccess);
        var stored = await Eventually.ValueAsync(() => ReadStoredAsync(liveId), s => s.Frozen, Timeout, "the frozen record");
        Assert.Equal(3, stored.UniqueViewerCount);
        Assert.Equal(3, HashSet64.FromBytes(stored.Unique).Count);
        Assert.Empty(stored.Present);
    }

    /// <summary>
    /// Orleans migrates an activation with queued requests when its silo shuts down, carrying the in-memory state
    /// object rather than reading storage on the new silo. The viewer sets must travel with it.
    /// </summary>
    [Fact]
    public async Task AMigratedStatsActivationKeepsItsViewersAndItsUnsavedActivity()
    {
        var liveId = await GoLiveAsync();
        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("a")))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 20);

        // Written behind once: from here on the sets are only in the tracker, not in the state object.
        fixture.Time.Advance(PersistInterval);
        await Eventually.TrueAsync(async () => HashSet64.FromBytes((await ReadStoredAsync(liveId)).Unique).Count == 20, Timeout, "the write-behind");
        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("b"), Likes: 2))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 40);

        var stats = Grains.GetGrain<ILiveStatsGrain>(liveId);
        var management = Grains.GetGrain<IManagementGrain>(0);
        var before = await management.GetActivationAddress(stats);
        var target = fixture.Cluster.Silos.Select(s => s.SiloAddress).First(a => !a.Equals(before));
        RequestContext.Set(IPlacementDirector.PlacementHintKey, target);
        try
        {
            await stats.Cast<IGrainManagementExtension>().MigrateOnIdle();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }

        await Eventually.TrueAsync(async () => target.Equals(await management.GetActivationAddress(stats)), Timeout, "the stats grain to move");
        var moved = await StatsAsync(liveId);
        Assert.Equal(40, moved.UniqueViewerCount);
        Assert.Equal(40, moved.ViewerCount);
        Assert.Equal(2, moved.LikeCount);

        // And what the moved activation writes is complete too.
        fixture.Time.Advance(PersistInterval);
        await Eventually.TrueAsync(
            async () => await ReadStoredAsync(liveId) is { LikeCount: 2 } stored && HashSet64.FromBytes(stored.Unique).Count == 40,
            Timeout, "the moved activation's write");
    }

    private static string[] Viewers(string prefix) => [.. Enumerable.Range(0, 20).Select(i => $"{prefix}{i}")];

    private IGrainStorage Storage => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(LiveGrainsStorage.State);

    private async Task<LiveStatsState> ReadStoredAsync(string liveId)
    {
        var stored = new GrainState<LiveStatsState>(new LiveStatsState());
        await Storage.ReadStateAsync("stats", GrainId.Create("livestats", liveId), stored);
        return stored.State ?? new LiveStatsState();
    }

    private async Task WriteAsAnotherActivationAsync(string liveId, string[] viewers, long likes, bool frozen = false)
    {
        var storage = Storage;
        var grainId = GrainId.Create("livestats", liveId);
        var stored = new GrainState<LiveStatsState>(new LiveStatsState());
        await storage.ReadStateAsync("stats", grainId, stored);
        stored.State ??= new LiveStatsState();

        var now = (uint)fixture.Time.GetUtcNow().ToUnixTimeSeconds();
        var present = HashMap64.FromBytes(stored.State.Present);
        var unique = HashSet64.FromBytes(stored.State.Unique);
        foreach (var viewer in viewers)
        {
            present.Set(ViewerOps.Hash(viewer), now);
            unique.Add(ViewerOps.Hash(viewer));
        }

        if (frozen)
        {
            // What an activation that saw only these viewers stores at the end.
            unique = new HashSet64();
            foreach (var viewer in viewers)
            {
                unique.Add(ViewerOps.Hash(viewer));
            }

            present = new HashMap64();
            stored.State.Frozen = true;
            stored.State.UniqueViewerCount = unique.Count;
            stored.State.ViewerCount = viewers.Length;
        }

        stored.State.Present = present.ToBytes();
        stored.State.Unique = unique.ToBytes();
        stored.State.ViewCount += viewers.Length;
        stored.State.LikeCount += likes;
        await storage.WriteStateAsync("stats", grainId, stored);
    }

    private Task<Result<ActivityReceipt>> RecordAsync(string liveId, ActivityRequest activity) =>
        Grains.GetGrain<ILiveActivityGrain>(liveId).RecordAsync(Tenant, activity);

    private async Task<StatsDto> StatsAsync(string liveId) =>
        (await Grains.GetGrain<ILiveStatsGrain>(liveId).GetStatsAsync(Tenant)).Value!;

    private Task<StatsDto> StatsWhenAsync(string liveId, Func<StatsDto, bool> accept) =>
        Eventually.ValueAsync(() => StatsAsync(liveId), accept, Timeout, "the stats to reflect the accepted activity");

    private IRoomGrain Room(string roomId) => Grains.GetGrain<IRoomGrain>(TenantKey.Compose(Tenant, roomId));

    private Task<string> GoLiveAsync() => GoLiveAsync(out _);

    private Task<string> GoLiveAsync(out string roomId)
    {
        roomId = "room-" + Guid.NewGuid().ToString("N")[..10];
        return GoLiveInAsync(roomId);
    }

    private async Task<string> GoLiveInAsync(string roomId)
    {
        var created = await Room(roomId).CreateAsync(new CreateRoomCommand(null, null, TakeoverPolicy.Takeover, 0));
        Assert.True(created.IsSuccess, created.Error?.Detail);
        var result = await Room(roomId).GoLiveAsync(new GoLiveCommand(null, null));
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value!.Live.LiveId;
    }
}

using LiveGrains.Abstractions;
using LiveGrains.Grains.Stats;
using LiveGrains.Testing;
using Microsoft.Extensions.DependencyInjection;
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

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task AWriteConflictWithAnotherActivationMergesBothViewerSetsAndCountersInsteadOfLosingOne()
    {
        var liveId = await GoLiveAsync();
        string[] Viewers(string prefix) => [.. Enumerable.Range(0, 20).Select(i => $"{prefix}{i}")];

        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("a"), Likes: 1))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.UniqueViewerCount == 20);

        // "Another activation" of the same live stores its own 20 viewers, 20 views and 2 likes behind this one's back.
        await WriteAsAnotherActivationAsync(liveId, Viewers("b"), likes: 2);

        Assert.True((await RecordAsync(liveId, new ActivityRequest(Joins: Viewers("c"), ChatMessages: 3))).IsSuccess);
        await StatsWhenAsync(liveId, s => s.ChatMessageCount == 3);

        // The write-behind runs into the conflict and merges: storage then holds all three viewer sets. Then
        // deactivate everything: the next activation reads storage.
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
        string[] Viewers(string prefix) => [.. Enumerable.Range(0, 20).Select(i => $"{prefix}{i}")];

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

    private IGrainStorage Storage => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(LiveGrainsStorage.State);

    private async Task<LiveStatsState> ReadStoredAsync(string liveId)
    {
        var stored = new GrainState<LiveStatsState>(new LiveStatsState());
        await Storage.ReadStateAsync("stats", GrainId.Create("livestats", liveId), stored);
        return stored.State ?? new LiveStatsState();
    }

    private async Task WriteAsAnotherActivationAsync(string liveId, string[] viewers, long likes)
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

    private async Task<string> GoLiveAsync()
    {
        var roomId = "room-" + Guid.NewGuid().ToString("N")[..10];
        var created = await Room(roomId).CreateAsync(new CreateRoomCommand(null, null, TakeoverPolicy.Takeover, 0));
        Assert.True(created.IsSuccess, created.Error?.Detail);
        var result = await Room(roomId).GoLiveAsync(new GoLiveCommand(null, null));
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value!.Live.LiveId;
    }
}

using LiveGrains.Abstractions;
using LiveGrains.Grains.Access;
using LiveGrains.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace LiveGrains.Grains.Tests;

/// <summary>
/// A cluster of its own where idle rooms are collected after 2 s (<c>Rooms:IdleCollectionSeconds</c>, checked every
/// second) instead of the production 2 minutes, so the tests see an on-air room leave memory and come back. Its
/// "live-state" storage can be told to fail writes.
/// </summary>
public sealed class IdleRoomsCluster : IAsyncLifetime
{
    private const string InnerStorage = "live-state-inner";

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public FaultInjectingStorage Faults { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var clock = new LiveGrainsClock(Time);
        Cluster = await TestClusters.DeployAsync(
            1,
            silo =>
            {
                silo.AddMemoryGrainStorage(InnerStorage);
                silo.Services.AddKeyedSingleton<IGrainStorage>(LiveGrainsStorage.State, (sp, _) =>
                    Faults = new FaultInjectingStorage(sp.GetRequiredKeyedService<IGrainStorage>(InnerStorage), sp.GetRequiredService<Serializer>()));
                silo.Services.AddSingleton(clock);
                silo.Services.AddSingleton<LiveGrains.Grains.Streams.IMediaServerControl>(Ingest.RecordingMediaServerControl.Instance);
                silo.Configure<GrainCollectionOptions>(o => o.CollectionQuantum = TimeSpan.FromSeconds(1));
            },
            new Dictionary<string, string?> { ["Rooms:IdleCollectionSeconds"] = "2" });
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// Idle lives are cheap because their rooms leave memory (docs/benchmarks.md, run M): a room whose live is on air but
/// that has nothing in flight is collected after its idle age, and its next call carries on from storage exactly.
/// </summary>
public sealed class RoomIdleCollectionTests(IdleRoomsCluster fixture) : IClassFixture<IdleRoomsCluster>
{
    private const string Tenant = GrainTestKit.Acme;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task AnOnAirRoomWithNothingPendingIsCollectedAndItsNextCallCarriesOnTheLive()
    {
        var (_, room) = await NewRoomAsync();
        var first = (await room.GoLiveAsync(new GoLiveCommand("Morning show", "alice", RequestId: "req-1"))).Value().Live;
        var entered = (await room.SetHostPresenceAsync(first.LiveId, entered: true, "alice")).Value();
        Assert.True(await ActiveAsync(room));

        await Eventually.TrueAsync(async () => !await ActiveAsync(room), Timeout, "the idle on-air room to be collected");

        // Reactivated from storage: the same live, on air, as it was.
        var read = (await room.GetLiveAsync(first.LiveId)).Value();
        Assert.Equal(LiveStatus.Live, read.Status);
        Assert.Equal(first.StartedAt, read.StartedAt);
        Assert.Equal("Morning show", read.Title);
        Assert.Equal(HostState.Entered, read.Host?.State);
        Assert.Equal(entered.UpdatedAt, read.UpdatedAt);
        Assert.Equal(first.LiveId, (await room.GetAsync()).Value().ActiveLiveId);

        // A retried go-live (same request id) still answers the decision made before the collection.
        var retried = (await room.GoLiveAsync(new GoLiveCommand("Morning show", "alice", RequestId: "req-1"))).Value();
        Assert.Equal(first.LiveId, retried.Live.LiveId);
        Assert.Null(retried.ClosedLive);

        await Eventually.TrueAsync(async () => !await ActiveAsync(room), Timeout, "the room to be collected again");

        // A new go-live supersedes the live on air exactly as if the room had never left memory.
        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        var second = (await room.GoLiveAsync(new GoLiveCommand("Evening show", "bob", RequestId: "req-2"))).Value();
        Assert.Equal(first.LiveId, second.ClosedLive?.LiveId);
        Assert.Equal(LiveStatus.Ended, second.ClosedLive?.Status);
        Assert.Equal(EndReason.Superseded, second.ClosedLive?.EndReason);
        Assert.Equal(300, second.ClosedLive?.DurationSeconds);
        Assert.Equal(second.Live.LiveId, (await room.GetAsync()).Value().ActiveLiveId);

        var trail = (await Grains.Live(first.LiveId).GetTransitionsAsync(Tenant)).Value();
        Assert.Equal(
            [LiveStatus.Live, LiveStatus.Ended],
            trail.Select(t => t.To).ToArray());
        var history = await room.AllLivesAsync();
        Assert.Equal([second.Live.LiveId, first.LiveId], history.Select(l => l.LiveId).ToArray());
        GrainTestKit.AssertOneActiveLive((await room.GetAsync()).Value(), history);
    }

    [Fact]
    public async Task AReconnectWindowThatRunsOutWhileTheRoomIsCollectedStillEndsTheLive()
    {
        var (roomId, _) = await NewRoomAsync();
        var stream = (await Grains.GetGrain<IStreamGrain>(Ids.NewStreamId(fixture.Time.GetUtcNow()))
            .CreateAsync(Tenant, new CreateStreamCommand(roomId, 10, RecordingMode.Off))).Value();
        var streamGrain = Grains.GetGrain<IStreamGrain>(stream.Stream.StreamId);
        var publish = await streamGrain.PublishAsync(Callback(stream.StreamKey, "1"));
        Assert.True(publish.Allowed);
        await streamGrain.UnpublishAsync(Callback(stream.StreamKey, "1"));
        Assert.Equal(LiveStatus.Paused, (await LiveAsync(publish.LiveId!)).Status);

        // The window is the stream's (a reminder and a timer), not the room's: the paused live's room may go.
        var room = Grains.Room(roomId, Tenant);
        await Eventually.TrueAsync(async () => !await ActiveAsync(room), Timeout, "the room of the paused live to be collected");

        fixture.Time.Advance(TimeSpan.FromSeconds(11));

        await Eventually.TrueAsync(
            async () => (await streamGrain.GetAsync(Tenant)).Value!.Status == StreamStatus.Idle,
            Timeout,
            "the reconnect window to settle the stream");
        var ended = await LiveAsync(publish.LiveId!);
        Assert.Equal(LiveStatus.Ended, ended.Status);
        Assert.Equal(EndReason.ReconnectTimeout, ended.EndReason);
        Assert.Null((await room.GetAsync()).Value().ActiveLiveId);
    }

    [Fact]
    public async Task ARoomWhosePumpKeepsFailingStaysInMemoryUntilItsWorkIsDone()
    {
        var (_, room) = await NewRoomAsync();
        var live = (await room.GoLiveAsync(new GoLiveCommand("Short", "alice"))).Value().Live;
        const int failures = 4;
        for (var i = 0; i < failures; i++)
        {
            // The ended live's archive write, behind the end's answer, retried by the pump every 2 s.
            fixture.Faults.FailNextWrite((id, _) => id.Type.ToString() == "live" && id.Key.ToString() == live.LiveId);
        }

        var failedBefore = fixture.Faults.FailedWrites;
        var readsBefore = RoomReads(room);
        (await room.TransitionLiveAsync(live.LiveId, new LiveCommand(LiveCommandKind.End, "alice"))).Value();

        // About 6 s of failures, well past the 2 s idle age: the retrying room is still in memory at the last one. It
        // would otherwise be collected, and nothing would archive the live until someone called the room again.
        await Eventually.TrueAsync(() => Task.FromResult(fixture.Faults.FailedWrites - failedBefore >= failures), Timeout, "the archive writes to fail");
        Assert.True(await ActiveAsync(room), "the room retrying its archive write was collected");

        await Eventually.TrueAsync(
            async () => await Grains.Live(live.LiveId).GetArchivedAsync(Tenant) is { Status: LiveStatus.Ended },
            Timeout,
            "the ended live to reach the archive without another call on its room");
        Assert.Equal(readsBefore, RoomReads(room));
    }

    [Fact]
    public async Task AFullAuditPageLeavesMemoryOnceStoredAndIsStillRead()
    {
        var tenant = "t-" + Guid.NewGuid().ToString("N")[..8];
        var log = Grains.GetGrain<IAuditLogGrain>(tenant);
        var at = fixture.Time.GetUtcNow();
        await log.AppendAsync([.. Enumerable.Range(0, AuditLogGrain.PageSize + 1).Select(i => new AuditRecord(
            at, new AuditActor("api_key", "k1"), "rooms.create", "r-" + i, "room", "success", 201))]);
        var page = Grains.GetGrain<IAuditPageGrain>(TenantKey.Compose(tenant, "0"));

        await Eventually.TrueAsync(async () => !await ActiveAsync(page), Timeout, "the stored page to deactivate");

        var read = await log.QueryAsync(new AuditQuery(null, null, 0, AuditLogGrain.PageSize + 1));
        Assert.Equal(AuditLogGrain.PageSize + 1, read.Items.Count);
        Assert.Equal("r-0", read.Items[0].Resource);
    }

    private async Task<(string RoomId, IRoomGrain Room)> NewRoomAsync()
    {
        var roomId = GrainTestKit.NewRoomId();
        var room = Grains.Room(roomId, Tenant);
        (await room.CreateAsync(new CreateRoomCommand("Room " + roomId, "host-1", TakeoverPolicy.Takeover, 60))).Value();
        return (roomId, room);
    }

    private async Task<bool> ActiveAsync(IAddressable grain) =>
        (await Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics()).Any(s => s.GrainId.Equals(grain.GetGrainId()));

    private int RoomReads(IRoomGrain room) => fixture.Faults.Reads.Count(id => id.Equals(room.GetGrainId()));

    private async Task<LiveDto> LiveAsync(string liveId) => (await Grains.Live(liveId).GetAsync(Tenant)).Value!;

    private static IngestCallback Callback(string key, string clientId) => new(key, MediaServerKind.NginxRtmp, clientId, "127.0.0.1");
}

using LiveGrains.Abstractions;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests.Ingest;

/// <summary>Bound streams, primary + backup feeds and the forced close, as the room and stream grains decide them.</summary>
[Collection(ClusterCollection.Name)]
public sealed class BoundStreamTests(ClusterFixture fixture)
{
    private const string Tenant = "acme";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private IGrainFactory Grains => fixture.Client;

    private static RecordingMediaServerControl MediaServers => RecordingMediaServerControl.Instance;

    [Fact]
    public async Task APublishStartsTheBoundScheduledLiveAndTheLiveListsTheStream()
    {
        var roomId = await CreateRoomAsync();
        await ScheduleAsync(roomId, null); // another pending live: the binding wins over "earliest"
        var bound = await ScheduleAsync(roomId, null);
        var (stream, key) = await CreateStreamAsync(roomId, liveId: bound.LiveId);
        Assert.Equal(bound.LiveId, stream.BoundLiveId);
        Assert.Contains(stream.StreamId, (await LiveAsync(bound.LiveId)).StreamIds!);

        var publish = await Stream(stream).PublishAsync(Callback(key, NewClient()));

        Assert.Equal(IngestOutcome.Allowed, publish.Outcome);
        Assert.Equal(bound.LiveId, publish.LiveId);
        var live = await LiveAsync(bound.LiveId);
        Assert.Equal(LiveStatus.Live, live.Status);
        Assert.Equal([stream.StreamId], live.StreamIds);
    }

    [Fact]
    public async Task AnUnboundStreamStartsTheEarliestScheduledLiveAndOnlyThenCreatesOne()
    {
        var roomId = await CreateRoomAsync();
        var later = await ScheduleAsync(roomId, fixture.Time.GetUtcNow().AddHours(2));
        var earlier = await ScheduleAsync(roomId, fixture.Time.GetUtcNow().AddHours(1));
        var (stream, key) = await CreateStreamAsync(roomId);

        var first = await Stream(stream).PublishAsync(Callback(key, NewClient()));
        Assert.Equal(earlier.LiveId, first.LiveId);

        // The live ends; the next publish takes the other scheduled one, and the one after that a new live.
        await Room(roomId).TransitionLiveAsync(earlier.LiveId, new LiveCommand(LiveCommandKind.End));
        var second = await Stream(stream).PublishAsync(Callback(key, NewClient()));
        Assert.Equal(later.LiveId, second.LiveId);

        await Room(roomId).TransitionLiveAsync(later.LiveId, new LiveCommand(LiveCommandKind.End));
        var third = await Stream(stream).PublishAsync(Callback(key, NewClient()));
        Assert.NotNull(third.LiveId);
        Assert.NotEqual(earlier.LiveId, third.LiveId);
        Assert.NotEqual(later.LiveId, third.LiveId);
        Assert.Equal(LiveStatus.Live, (await LiveAsync(third.LiveId!)).Status);
    }

    [Fact]
    public async Task BindingToALiveOfAnotherRoomOrAnEndedLiveIsRefused()
    {
        var roomId = await CreateRoomAsync();
        var otherRoom = await CreateRoomAsync();
        var foreign = await ScheduleAsync(otherRoom, null);

        var wrongRoom = await CreateAsync(roomId, liveId: foreign.LiveId);
        Assert.Equal(DomainErrorCode.ValidationFailed, wrongRoom.Error?.Code);
        Assert.Equal("live_id", wrongRoom.Error?.Field);

        var ended = await ScheduleAsync(roomId, null);
        await Room(roomId).TransitionLiveAsync(ended.LiveId, new LiveCommand(LiveCommandKind.End));
        Assert.Equal(DomainErrorCode.LiveEnded, (await CreateAsync(roomId, liveId: ended.LiveId)).Error?.Code);

        var (stream, _) = await CreateStreamAsync(roomId);
        Assert.Equal(DomainErrorCode.LiveEnded, (await Stream(stream).PatchAsync(Tenant, new UpdateStreamCommand(LiveId: ended.LiveId))).Error?.Code);
    }

    [Fact]
    public async Task PatchRebindsAndUnbindsAndChangesTheStreamsSettings()
    {
        var roomId = await CreateRoomAsync();
        var first = await ScheduleAsync(roomId, null);
        var second = await ScheduleAsync(roomId, null);
        var (stream, _) = await CreateStreamAsync(roomId, liveId: first.LiveId);

        var patched = await Stream(stream).PatchAsync(Tenant, new UpdateStreamCommand("camera 2", 15, RecordingMode.Auto, second.LiveId));

        Assert.True(patched.IsSuccess, patched.Error?.Detail);
        Assert.Equal("camera 2", patched.Value!.Name);
        Assert.Equal(15, patched.Value.ReconnectWindowSeconds);
        Assert.Equal(RecordingMode.Auto, patched.Value.Recording);
        Assert.Equal(second.LiveId, patched.Value.BoundLiveId);
        Assert.DoesNotContain(stream.StreamId, (await LiveAsync(first.LiveId)).StreamIds!);
        Assert.Contains(stream.StreamId, (await LiveAsync(second.LiveId)).StreamIds!);

        var unbound = await Stream(stream).PatchAsync(Tenant, new UpdateStreamCommand(LiveId: string.Empty));
        Assert.Null(unbound.Value!.BoundLiveId);
        Assert.Equal("camera 2", unbound.Value.Name);
        Assert.Equal(DomainErrorCode.NotFound, (await Stream(stream).PatchAsync("globex", new UpdateStreamCommand(Name: "x"))).Error?.Code);
    }

    [Fact]
    public async Task AStreamCreatedDisabledRefusesItsKeyUntilEnabled()
    {
        var roomId = await CreateRoomAsync();
        var (stream, key) = await CreateStreamAsync(roomId, enabled: false);
        Assert.False(stream.Enabled);

        Assert.Equal(IngestOutcome.Disabled, (await Stream(stream).PublishAsync(Callback(key, NewClient()))).Outcome);

        Assert.True((await Stream(stream).PatchAsync(Tenant, new UpdateStreamCommand(Enabled: true))).Value!.Enabled);
        Assert.Equal(IngestOutcome.Allowed, (await Stream(stream).PublishAsync(Callback(key, NewClient()))).Outcome);
    }

    [Fact]
    public async Task ALiveFedByAPrimaryAndABackupPausesOnlyWhenNeitherPublishes()
    {
        var roomId = await CreateRoomAsync();
        var (primary, primaryKey) = await CreateStreamAsync(roomId);
        var (backup, backupKey) = await CreateStreamAsync(roomId, role: StreamRole.Backup);
        var primaryClient = NewClient();
        var backupClient = NewClient();

        var liveId = (await Stream(primary).PublishAsync(Callback(primaryKey, primaryClient))).LiveId!;
        Assert.Equal(liveId, (await Stream(backup).PublishAsync(Callback(backupKey, backupClient))).LiveId);
        Assert.Equal(StreamRole.Backup, (await Stream(backup).GetAsync(Tenant)).Value!.Role);

        await Stream(primary).UnpublishAsync(Callback(primaryKey, primaryClient));
        Assert.Equal(LiveStatus.Live, (await LiveAsync(liveId)).Status);

        await Stream(backup).UnpublishAsync(Callback(backupKey, backupClient));
        Assert.Equal(LiveStatus.Paused, (await LiveAsync(liveId)).Status);

        // Either one coming back resumes it.
        await Stream(backup).PublishAsync(Callback(backupKey, NewClient()));
        Assert.Equal(LiveStatus.Live, (await LiveAsync(liveId)).Status);
    }

    [Fact]
    public async Task DisablingThePrimaryKeepsTheLiveOnAirWhileTheBackupPublishesAndDropsThePrimary()
    {
        var roomId = await CreateRoomAsync();
        var (primary, primaryKey) = await CreateStreamAsync(roomId);
        var (backup, backupKey) = await CreateStreamAsync(roomId, role: StreamRole.Backup);
        var primaryClient = NewClient();
        var liveId = (await Stream(primary).PublishAsync(Callback(primaryKey, primaryClient))).LiveId!;
        await Stream(backup).PublishAsync(Callback(backupKey, NewClient()));

        await Stream(primary).SetEnabledAsync(Tenant, false);

        Assert.Equal(LiveStatus.Live, (await LiveAsync(liveId)).Status);
        await Eventually.TrueAsync(() => MediaServers.WasDropped(primaryClient), Timeout, "the disabled primary's publisher is dropped");

        // The backup alone now: disabling it too ends the live.
        await Stream(backup).SetEnabledAsync(Tenant, false);
        var ended = await LiveAsync(liveId);
        Assert.Equal(LiveStatus.Ended, ended.Status);
        Assert.Equal("stream_disabled", ended.EndedBy);
    }

    [Fact]
    public async Task AGoLiveThatSupersedesTheLiveDropsItsPublisherAndIdlesTheStream()
    {
        var roomId = await CreateRoomAsync();
        var (stream, key) = await CreateStreamAsync(roomId);
        var client = NewClient();
        var liveId = (await Stream(stream).PublishAsync(Callback(key, client))).LiveId!;

        var goLive = await Room(roomId).GoLiveAsync(new GoLiveCommand("app", "host"));
        Assert.Equal(liveId, goLive.Value!.ClosedLive?.LiveId);

        await Eventually.TrueAsync(() => MediaServers.WasDropped(client), Timeout, "the superseded live's publisher is dropped");
        var dropped = MediaServers.Dropped.First(d => d.ClientId == client);
        Assert.Equal(new PublisherRef(MediaServerKind.NginxRtmp, client, "live", null), dropped);
        var idle = (await Stream(stream).GetAsync(Tenant)).Value!;
        Assert.Equal(StreamStatus.Idle, idle.Status);
        Assert.Null(idle.LiveId);

        // Its late publish_done changes nothing; the new live stays on air.
        await Stream(stream).UnpublishAsync(Callback(key, client));
        Assert.Equal(LiveStatus.Live, (await LiveAsync(goLive.Value.Live.LiveId)).Status);
    }

    [Fact]
    public async Task ADropThatFailsIsRetriedUntilTheMediaServerTakesIt()
    {
        var roomId = await CreateRoomAsync();
        var (stream, key) = await CreateStreamAsync(roomId);
        var client = NewClient();
        MediaServers.FailuresLeft[client] = 2;
        var liveId = (await Stream(stream).PublishAsync(Callback(key, client))).LiveId!;

        await Room(roomId).TransitionLiveAsync(liveId, new LiveCommand(LiveCommandKind.End));

        await Eventually.TrueAsync(() => MediaServers.WasDropped(client), Timeout, "the drop is retried after two failures");
        Assert.Equal(3, MediaServers.Attempts[client]);
    }

    [Fact]
    public async Task ADeletedStreamIsGoneRefusesItsKeyEndsItsLiveAndDropsItsPublisher()
    {
        var roomId = await CreateRoomAsync();
        var (stream, key) = await CreateStreamAsync(roomId);
        var client = NewClient();
        var liveId = (await Stream(stream).PublishAsync(Callback(key, client))).LiveId!;

        Assert.Equal(DomainErrorCode.NotFound, (await Stream(stream).DeleteAsync("globex")).Error?.Code);
        Assert.True((await Stream(stream).DeleteAsync(Tenant)).IsSuccess);

        Assert.Equal(DomainErrorCode.NotFound, (await Stream(stream).GetAsync(Tenant)).Error?.Code);
        Assert.Equal(IngestOutcome.UnknownStream, (await Stream(stream).PublishAsync(Callback(key, NewClient()))).Outcome);
        var ended = await LiveAsync(liveId);
        Assert.Equal(LiveStatus.Ended, ended.Status);
        Assert.Equal("stream_deleted", ended.EndedBy);
        await Eventually.TrueAsync(() => MediaServers.WasDropped(client), Timeout, "the deleted stream's publisher is dropped");
        var listed = await Grains.GetGrain<ITenantListingGrain>(Tenant).ListStreamsAsync(roomId, true, 100, null);
        Assert.DoesNotContain(listed.Value!.Items, s => s.StreamId == stream.StreamId);
    }

    private static string NewClient() => Guid.NewGuid().ToString("N")[..12];

    private static IngestCallback Callback(string key, string clientId) => new(key, MediaServerKind.NginxRtmp, clientId, "127.0.0.1", "live");

    private IStreamGrain Stream(StreamDto stream) => Grains.GetGrain<IStreamGrain>(stream.StreamId);

    private IRoomGrain Room(string roomId) => Grains.GetGrain<IRoomGrain>(TenantKey.Compose(Tenant, roomId));

    private async Task<LiveDto> LiveAsync(string liveId) => (await Grains.GetGrain<ILiveGrain>(liveId).GetAsync(Tenant)).Value!;

    private async Task<string> CreateRoomAsync()
    {
        var roomId = "room-" + Guid.NewGuid().ToString("N")[..12];
        var room = await Room(roomId).CreateAsync(new CreateRoomCommand(null, null, TakeoverPolicy.Takeover, 60));
        Assert.True(room.IsSuccess, room.Error?.Detail);
        return roomId;
    }

    private async Task<LiveDto> ScheduleAsync(string roomId, DateTimeOffset? at)
    {
        var live = await Room(roomId).ScheduleLiveAsync(new ScheduleLiveCommand(null, at));
        Assert.True(live.IsSuccess, live.Error?.Detail);
        return live.Value!;
    }

    private Task<Result<StreamWithKey>> CreateAsync(string roomId, string? liveId = null, StreamRole role = StreamRole.Primary, bool enabled = true) =>
        Grains.GetGrain<IStreamGrain>(Ids.NewStreamId(DateTimeOffset.UtcNow))
            .CreateAsync(Tenant, new CreateStreamCommand(roomId, 60, RecordingMode.Off, liveId, "cam", role, enabled));

    private async Task<(StreamDto Stream, string Key)> CreateStreamAsync(string roomId, string? liveId = null, StreamRole role = StreamRole.Primary, bool enabled = true)
    {
        var created = await CreateAsync(roomId, liveId, role, enabled);
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return (created.Value!.Stream, created.Value.StreamKey);
    }
}

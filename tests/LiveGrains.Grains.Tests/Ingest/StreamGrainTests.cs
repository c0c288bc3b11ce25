using LiveGrains.Abstractions;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests.Ingest;

[Collection(ClusterCollection.Name)]
public sealed class StreamGrainTests(ClusterFixture fixture)
{
    private const string Tenant = "acme";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task TheKeyIsShownOnceEncodesTheStreamIdAndOnlyItsSaltedHashIsKept()
    {
        var (stream, key) = await CreateStreamAsync();

        Assert.StartsWith(stream.StreamId + ".", key, StringComparison.Ordinal);
        Assert.Equal(stream.StreamId, StreamKeys.StreamIdOf(key));
        Assert.Equal(48, key.Length - stream.StreamId.Length - 1);

        // Salted by the stream id: the same secret under another id has another digest.
        Assert.NotEqual(StreamKeys.Hash(stream.StreamId, key), StreamKeys.Hash("st_other", key));
        Assert.True(StreamKeys.Matches(stream.StreamId, key, StreamKeys.Hash(stream.StreamId, key)));
        Assert.False(StreamKeys.Matches(stream.StreamId, key + "x", StreamKeys.Hash(stream.StreamId, key)));

        // Nothing the grain returns afterwards carries the key.
        var read = await Grain(stream).GetAsync(Tenant);
        Assert.DoesNotContain(key, read.Value!.ToString(), StringComparison.Ordinal);
        Assert.Equal(StreamStatus.Idle, read.Value.Status);
        Assert.True(read.Value.Enabled);
    }

    [Fact]
    public async Task AnotherTenantDoesNotSeeTheStream()
    {
        var (stream, _) = await CreateStreamAsync();

        Assert.Equal(DomainErrorCode.NotFound, (await Grain(stream).GetAsync("globex")).Error?.Code);
        Assert.Equal(DomainErrorCode.NotFound, (await Grain(stream).SetEnabledAsync("globex", false)).Error?.Code);
    }

    [Fact]
    public async Task APublishWithTheKeyGoesLiveAndAWrongKeyIsRefused()
    {
        var (stream, key) = await CreateStreamAsync();

        var wrong = await Grain(stream).PublishAsync(Callback(stream.StreamId + ".00", "1"));
        Assert.Equal(IngestOutcome.BadKey, wrong.Outcome);

        var publish = await Grain(stream).PublishAsync(Callback(key, "1"));
        Assert.Equal(IngestOutcome.Allowed, publish.Outcome);
        var live = await LiveAsync(publish.LiveId!);
        Assert.Equal(LiveStatus.Live, live.Status);
        Assert.Equal(StreamStatus.Connected, (await Grain(stream).GetAsync(Tenant)).Value!.Status);
    }

    [Fact]
    public async Task ARotatedKeyIsRefusedAtOnceAndItsRunningPublisherIsDropped()
    {
        var (stream, oldKey) = await CreateStreamAsync();
        Assert.True((await Grain(stream).PublishAsync(Callback(oldKey, "1"))).Allowed);

        var rotated = await Grain(stream).RotateKeyAsync(Tenant);

        var newKey = rotated.Value!.StreamKey;
        Assert.NotEqual(oldKey, newKey);
        Assert.Equal(2, rotated.Value.Stream.KeyVersion);
        Assert.Equal(IngestOutcome.BadKey, (await Grain(stream).UpdateAsync(Callback(oldKey, "1"))).Outcome);
        Assert.Equal(IngestOutcome.BadKey, (await Grain(stream).PublishAsync(Callback(oldKey, "2"))).Outcome);
        Assert.Equal(IngestOutcome.Allowed, (await Grain(stream).PublishAsync(Callback(newKey, "3"))).Outcome);
    }

    [Fact]
    public async Task DisablingEndsTheLiveAndRefusesTheKeyUntilEnabledAgain()
    {
        var (stream, key) = await CreateStreamAsync();
        var first = await Grain(stream).PublishAsync(Callback(key, "1"));

        var disabled = await Grain(stream).SetEnabledAsync(Tenant, false);

        Assert.False(disabled.Value!.Enabled);
        Assert.Equal(StreamStatus.Idle, disabled.Value.Status);
        var ended = await LiveAsync(first.LiveId!);
        Assert.Equal(LiveStatus.Ended, ended.Status);
        Assert.Equal(EndReason.Ended, ended.EndReason);
        Assert.Equal(IngestOutcome.Disabled, (await Grain(stream).UpdateAsync(Callback(key, "1"))).Outcome);
        Assert.Equal(IngestOutcome.Disabled, (await Grain(stream).PublishAsync(Callback(key, "2"))).Outcome);

        Assert.True((await Grain(stream).SetEnabledAsync(Tenant, true)).Value!.Enabled);
        var again = await Grain(stream).PublishAsync(Callback(key, "3"));
        Assert.Equal(IngestOutcome.Allowed, again.Outcome);
        Assert.NotEqual(first.LiveId, again.LiveId);
    }

    [Fact]
    public async Task AReconnectWithinTheWindowResumesTheSameLive()
    {
        var (stream, key) = await CreateStreamAsync(windowSeconds: 600);
        var first = await Grain(stream).PublishAsync(Callback(key, "1"));

        await Grain(stream).UnpublishAsync(Callback(key, "1"));

        var reconnecting = (await Grain(stream).GetAsync(Tenant)).Value!;
        Assert.Equal(StreamStatus.Reconnecting, reconnecting.Status);
        Assert.NotNull(reconnecting.DisconnectedAt);
        Assert.Equal(LiveStatus.Paused, (await LiveAsync(first.LiveId!)).Status);

        var again = await Grain(stream).PublishAsync(Callback(key, "2"));

        Assert.Equal(first.LiveId, again.LiveId);
        Assert.Equal(LiveStatus.Live, (await LiveAsync(first.LiveId!)).Status);
        Assert.Equal(StreamStatus.Connected, (await Grain(stream).GetAsync(Tenant)).Value!.Status);
    }

    [Fact]
    public async Task AfterTheWindowTheStreamIsIdleAndTheLiveEndsWithReconnectTimeout()
    {
        var (stream, key) = await CreateStreamAsync(windowSeconds: 1);
        var first = await Grain(stream).PublishAsync(Callback(key, "1"));
        await Grain(stream).UnpublishAsync(Callback(key, "1"));

        fixture.Time.Advance(TimeSpan.FromSeconds(2));

        await Eventually.TrueAsync(
            async () => (await Grain(stream).GetAsync(Tenant)).Value!.Status == StreamStatus.Idle,
            Timeout,
            "the reconnect window's timer settles the stream");
        var live = await LiveAsync(first.LiveId!);
        Assert.Equal(LiveStatus.Ended, live.Status);
        Assert.Equal(EndReason.ReconnectTimeout, live.EndReason);
    }

    [Fact]
    public async Task ASecondPublisherIsRefusedUnderRejectAndTakesOverUnderTakeover()
    {
        var (rejecting, rejectKey) = await CreateStreamAsync(policy: TakeoverPolicy.Reject);
        Assert.True((await Grain(rejecting).PublishAsync(Callback(rejectKey, "1"))).Allowed);
        Assert.Equal(IngestOutcome.Busy, (await Grain(rejecting).PublishAsync(Callback(rejectKey, "2"))).Outcome);
        Assert.True((await Grain(rejecting).UpdateAsync(Callback(rejectKey, "1"))).Allowed);

        var (taking, takeKey) = await CreateStreamAsync(policy: TakeoverPolicy.Takeover);
        var first = await Grain(taking).PublishAsync(Callback(takeKey, "1"));
        var second = await Grain(taking).PublishAsync(Callback(takeKey, "2"));
        Assert.True(second.Allowed);
        Assert.Equal(first.LiveId, second.LiveId);

        // The old publisher is dropped at its next update, and its end does not disturb the new one.
        Assert.Equal(IngestOutcome.Busy, (await Grain(taking).UpdateAsync(Callback(takeKey, "1"))).Outcome);
        Assert.Equal(IngestOutcome.Ignored, (await Grain(taking).UnpublishAsync(Callback(takeKey, "1"))).Outcome);
        Assert.Equal(StreamStatus.Connected, (await Grain(taking).GetAsync(Tenant)).Value!.Status);
    }

    [Fact]
    public async Task RecordingSessionsAreKeptAsHistory()
    {
        var (stream, key) = await CreateStreamAsync(recording: RecordingMode.Auto, windowSeconds: 0);

        Assert.Equal(DomainErrorCode.InvalidTransition, (await Grain(stream).StartRecordingAsync(Tenant)).Error?.Code);

        var publish = await Grain(stream).PublishAsync(Callback(key, "1"));
        var auto = (await Grain(stream).GetAsync(Tenant)).Value!;
        Assert.True(auto.RecordingActive);
        Assert.Equal(RecordingTrigger.Auto, Assert.Single(auto.RecordingSessions).Trigger);
        Assert.Equal(publish.LiveId, auto.RecordingSessions[0].LiveId);

        fixture.Time.Advance(TimeSpan.FromSeconds(5));
        var stopped = (await Grain(stream).StopRecordingAsync(Tenant)).Value!;
        Assert.False(stopped.RecordingActive);
        Assert.Equal(auto.RecordingSessions[0].StartedAt + TimeSpan.FromSeconds(5), stopped.RecordingSessions[0].StoppedAt);

        var manual = (await Grain(stream).StartRecordingAsync(Tenant)).Value!;
        Assert.True(manual.RecordingActive);
        Assert.Equal(RecordingTrigger.Manual, manual.RecordingSessions[1].Trigger);
        Assert.Equal(2, (await Grain(stream).StartRecordingAsync(Tenant)).Value!.RecordingSessions.Count);

        // Window 0: the disconnect ends everything at once, the running recording too.
        await Grain(stream).UnpublishAsync(Callback(key, "1"));
        var idle = (await Grain(stream).GetAsync(Tenant)).Value!;
        Assert.Equal(StreamStatus.Idle, idle.Status);
        Assert.False(idle.RecordingActive);
        Assert.All(idle.RecordingSessions, s => Assert.NotNull(s.StoppedAt));
        Assert.Equal(EndReason.ReconnectTimeout, (await LiveAsync(publish.LiveId!)).EndReason);
    }

    [Fact]
    public async Task AStreamNeedsAnExistingRoomOfTheSameTenant()
    {
        var result = await Grains.GetGrain<IStreamGrain>(Ids.NewStreamId(DateTimeOffset.UtcNow))
            .CreateAsync(Tenant, new CreateStreamCommand("no-such-room-" + Guid.NewGuid().ToString("N"), null, RecordingMode.Off));

        Assert.Equal(DomainErrorCode.ValidationFailed, result.Error?.Code);
        Assert.Equal("room_id", result.Error?.Field);
    }

    private IStreamGrain Grain(StreamDto stream) => Grains.GetGrain<IStreamGrain>(stream.StreamId);

    private static IngestCallback Callback(string key, string clientId) => new(key, MediaServerKind.NginxRtmp, clientId, "127.0.0.1");

    private async Task<LiveDto> LiveAsync(string liveId) => (await Grains.GetGrain<ILiveGrain>(liveId).GetAsync(Tenant)).Value!;

    private async Task<(StreamDto Stream, string Key)> CreateStreamAsync(
        TakeoverPolicy policy = TakeoverPolicy.Takeover, RecordingMode recording = RecordingMode.Off, int? windowSeconds = 60)
    {
        var roomId = "room-" + Guid.NewGuid().ToString("N")[..12];
        var room = await Grains.GetGrain<IRoomGrain>(TenantKey.Compose(Tenant, roomId)).CreateAsync(new CreateRoomCommand(null, null, policy, 60));
        Assert.True(room.IsSuccess, room.Error?.Detail);
        var created = await Grains.GetGrain<IStreamGrain>(Ids.NewStreamId(DateTimeOffset.UtcNow))
            .CreateAsync(Tenant, new CreateStreamCommand(roomId, windowSeconds, recording));
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return (created.Value!.Stream, created.Value.StreamKey);
    }
}

using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class LiveGrainTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task PauseAndResumeKeepTheLiveActiveAndExcludePausedTimeFromDuration()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var live = Grains.Live((await room.GoLiveAsync(new GoLiveCommand(null, "alice"))).Value().Live.LiveId);
        fixture.Time.Advance(TimeSpan.FromSeconds(30));

        var paused = (await live.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Pause, "alice"))).Value();
        Assert.Equal(LiveStatus.Paused, paused.Status);
        Assert.Equal(fixture.Time.GetUtcNow(), paused.PausedAt);
        Assert.Equal(30, paused.DurationSeconds);
        Assert.Equal(paused.LiveId, (await room.GetAsync()).Value().ActiveLiveId);

        fixture.Time.Advance(TimeSpan.FromSeconds(100));
        Assert.Equal(30, (await live.GetAsync(GrainTestKit.Acme)).Value().DurationSeconds);

        var resumed = (await live.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Resume, "alice"))).Value();
        Assert.Equal(LiveStatus.Live, resumed.Status);
        fixture.Time.Advance(TimeSpan.FromSeconds(12));
        var read = (await live.GetAsync(GrainTestKit.Acme)).Value();
        Assert.Equal(42, read.DurationSeconds);
        Assert.Equal(42, read.Stats.DurationSeconds);
        Assert.Equal(read.LiveId, (await room.GetAsync()).Value().ActiveLiveId);

        var ended = (await live.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.End, "bob"))).Value();
        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(42, ended.DurationSeconds);
        Assert.Equal(42, (await live.GetAsync(GrainTestKit.Acme)).Value().DurationSeconds);
    }

    [Fact]
    public async Task CommandsThatDoNotApplyAreInvalidTransitionsAndChangeNothing()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var scheduledId = (await room.ScheduleLiveAsync(new ScheduleLiveCommand(null, null))).Value().LiveId;
        var scheduled = Grains.Live(scheduledId);
        (await scheduled.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Pause))).Failure(DomainErrorCode.InvalidTransition);
        (await scheduled.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Resume))).Failure(DomainErrorCode.InvalidTransition);

        var onAirId = (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value().Live.LiveId;
        var onAir = Grains.Live(onAirId);
        (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Start))).Failure(DomainErrorCode.InvalidTransition);
        (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Ready))).Failure(DomainErrorCode.InvalidTransition);
        (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Resume))).Failure(DomainErrorCode.InvalidTransition);
        (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Pause))).Value();
        (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Pause))).Failure(DomainErrorCode.InvalidTransition);
        (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Start))).Failure(DomainErrorCode.InvalidTransition);
        Assert.Equal(onAirId, (await room.GetAsync()).Value().ActiveLiveId);

        (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.End))).Value();
        var endedBefore = (await onAir.GetAsync(GrainTestKit.Acme)).Value();
        foreach (var kind in Enum.GetValues<LiveCommandKind>())
        {
            (await onAir.TransitionAsync(GrainTestKit.Acme, new LiveCommand(kind))).Failure(DomainErrorCode.InvalidTransition);
        }

        Assert.Equal(endedBefore, (await onAir.GetAsync(GrainTestKit.Acme)).Value());
        Assert.Null((await room.GetAsync()).Value().ActiveLiveId);
        Assert.Equal(LiveStatus.Scheduled, (await scheduled.GetAsync(GrainTestKit.Acme)).Value().Status);
    }

    [Fact]
    public async Task EndingAScheduledLiveCancelsIt()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var live = Grains.Live((await room.ScheduleLiveAsync(new ScheduleLiveCommand("Never aired", null))).Value().LiveId);

        var ended = (await live.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.End, "producer"))).Value();

        Assert.Equal(LiveStatus.Ended, ended.Status);
        Assert.Equal(EndReason.Cancelled, ended.EndReason);
        Assert.Equal("producer", ended.EndedBy);
        Assert.Null(ended.StartedAt);
        Assert.Equal(0, ended.DurationSeconds);
    }

    [Fact]
    public async Task ALiveOfOneTenantIsNotFoundForAnother()
    {
        var (_, room) = await Grains.NewRoomAsync(tenant: GrainTestKit.Acme);
        var liveId = (await room.GoLiveAsync(new GoLiveCommand("secret", null))).Value().Live.LiveId;
        var live = Grains.Live(liveId);

        var read = await live.GetAsync(GrainTestKit.Globex);
        var ended = await live.TransitionAsync(GrainTestKit.Globex, new LiveCommand(LiveCommandKind.End));

        read.Failure(DomainErrorCode.NotFound);
        ended.Failure(DomainErrorCode.NotFound);
        Assert.Equal(LiveStatus.Live, (await live.GetAsync(GrainTestKit.Acme)).Value().Status);
    }

    [Fact]
    public async Task AnUnknownLiveIsNotFound()
    {
        var (roomId, _) = await Grains.NewRoomAsync();
        foreach (var liveId in new[] { Ids.NewLiveId(fixture.Time.GetUtcNow(), roomId), Ids.NewLiveId(fixture.Time.GetUtcNow(), "no-such-room"), "lv_not-a-live-id" })
        {
            var live = Grains.Live(liveId);
            (await live.GetAsync(GrainTestKit.Acme)).Failure(DomainErrorCode.NotFound);
            (await live.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Start))).Failure(DomainErrorCode.NotFound);
            Assert.Null(await live.GetArchivedAsync(GrainTestKit.Acme));
            Assert.Null(await live.GetStatsSubjectAsync(GrainTestKit.Acme));
        }
    }

    [Fact]
    public async Task ALiveReadsTheSameFromTheRoomHistoryAndFromItself()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var created = (await room.GoLiveAsync(new GoLiveCommand("same", "alice"))).Value().Live;

        var fromHistory = Assert.Single(await room.AllLivesAsync());
        var direct = (await Grains.Live(created.LiveId).GetAsync(GrainTestKit.Acme)).Value();

        Assert.Equal(created, fromHistory);
        Assert.Equal(created, direct);
    }
}

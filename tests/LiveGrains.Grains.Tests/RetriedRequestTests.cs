using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Tests;

/// <summary>
/// A client that retries a go-live after a lost response (a 503 after the room already decided) must get the
/// first decision back, not a second live that supersedes the first.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RetriedRequestTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task ARetriedGoLiveWithTheSameRequestIdReturnsTheFirstDecisionAndCreatesNoSecondLive()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var before = (await room.GoLiveAsync(new GoLiveCommand("before", null))).Value();

        var first = (await room.GoLiveAsync(new GoLiveCommand("show", "alice", "req-1"))).Value();
        var retry = (await room.GoLiveAsync(new GoLiveCommand("show", "alice", "req-1"))).Value();

        Assert.Equal(first.Live.LiveId, retry.Live.LiveId);
        Assert.Equal(before.Live.LiveId, retry.ClosedLive?.LiveId);
        Assert.Equal(LiveStatus.Live, retry.Live.Status);
        Assert.Equal(first.Live.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
        var history = (await room.ListLivesAsync(100, null)).Value();
        Assert.Equal(2, history.Items.Count);
    }

    [Fact]
    public async Task ARetriedTransitionWithTheSameRequestIdIsAppliedOnce()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var live = (await room.GoLiveAsync(new GoLiveCommand("show", null))).Value().Live;

        var paused = (await Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.Pause, "alice", RequestId: "pause-1"))).Value();
        (await Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.Resume, "alice", RequestId: "resume-1"))).Value();

        // The pause's response was lost and the gateway sends it again: it is answered, not applied a second time.
        var retried = (await Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.Pause, "alice", RequestId: "pause-1"))).Value();
        Assert.Equal(LiveStatus.Paused, paused.Status);
        Assert.Equal(LiveStatus.Live, retried.Status);
        Assert.Equal(live.LiveId, (await room.GetAsync()).Value().ActiveLiveId);

        var ended = (await Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.End, "alice", RequestId: "end-1"))).Value();
        var endedAgain = (await Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.End, "alice", RequestId: "end-1"))).Value();
        Assert.Equal(LiveStatus.Ended, ended.Status);
        Assert.Equal(ended.EndedAt, endedAgain.EndedAt);

        // A new request id is a new command, refused as before.
        (await Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.End, "alice", RequestId: "end-2"))).Failure(DomainErrorCode.InvalidTransition);
    }

    [Fact]
    public async Task ADifferentRequestIdIsANewGoLive()
    {
        var (_, room) = await Grains.NewRoomAsync();

        var first = (await room.GoLiveAsync(new GoLiveCommand("a", null, "req-a"))).Value();
        var second = (await room.GoLiveAsync(new GoLiveCommand("b", null, "req-b"))).Value();

        Assert.NotEqual(first.Live.LiveId, second.Live.LiveId);
        Assert.Equal(first.Live.LiveId, second.ClosedLive?.LiveId);
        Assert.Equal(EndReason.Superseded, second.ClosedLive?.EndReason);
    }

    [Fact]
    public async Task ARetriedScheduleReturnsTheSameScheduledLive()
    {
        var (_, room) = await Grains.NewRoomAsync();

        var first = (await room.ScheduleLiveAsync(new ScheduleLiveCommand("later", null, "req-s"))).Value();
        var retry = (await room.ScheduleLiveAsync(new ScheduleLiveCommand("later", null, "req-s"))).Value();

        Assert.Equal(first.LiveId, retry.LiveId);
        Assert.Single((await room.ListLivesAsync(100, null)).Value().Items);
    }

    [Fact]
    public async Task ARetriedCreateWithTheSameRequestIdAnswersWithTheRoomButAnotherRequestGetsRoomExists()
    {
        var roomId = GrainTestKit.NewRoomId();
        var room = Grains.Room(roomId);

        var first = (await room.CreateAsync(new CreateRoomCommand("t", null, TakeoverPolicy.Takeover, 60, "req-c"))).Value();
        var retry = (await room.CreateAsync(new CreateRoomCommand("t", null, TakeoverPolicy.Takeover, 60, "req-c"))).Value();
        var other = await room.CreateAsync(new CreateRoomCommand("t", null, TakeoverPolicy.Takeover, 60, "req-other"));

        Assert.Equal(first, retry);
        other.Failure(DomainErrorCode.RoomExists);
    }
}

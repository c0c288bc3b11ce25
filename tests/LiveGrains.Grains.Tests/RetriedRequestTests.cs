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

using LiveGrains.Abstractions;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class RoomGrainTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task ACreatedRoomReadsBackWithItsSettingsAndNoActiveLive()
    {
        var roomId = GrainTestKit.NewRoomId();
        var now = fixture.Time.GetUtcNow();

        var created = (await Grains.Room(roomId).CreateAsync(new CreateRoomCommand("Morning show", "host-7", TakeoverPolicy.Reject, 90))).Value();
        var read = (await Grains.Room(roomId).GetAsync()).Value();

        Assert.Equal(created, read);
        Assert.Equal(roomId, read.RoomId);
        Assert.Equal("Morning show", read.Title);
        Assert.Equal("host-7", read.HostId);
        Assert.Equal(TakeoverPolicy.Reject, read.TakeoverPolicy);
        Assert.Equal(90, read.ReconnectWindowSeconds);
        Assert.Null(read.ActiveLiveId);
        Assert.Equal(now, read.CreatedAt);
        Assert.Equal(now, read.UpdatedAt);
    }

    /// <summary>
    /// A room that has no live is not kept activated after its create (issue 13: a tenant with a million rooms would
    /// otherwise hold every room created in the last 15 minutes); it reads back from storage and still goes live.
    /// </summary>
    [Fact]
    public async Task ARoomWithoutALiveDeactivatesAfterItsCreateAndReactivatesFromStorage()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        var management = Grains.GetGrain<IManagementGrain>(0);
        async Task<bool> ActiveAsync() =>
            (await management.GetDetailedGrainStatistics()).Any(s => s.GrainId.Equals(room.GetGrainId()));

        await Eventually.TrueAsync(async () => !await ActiveAsync(), TimeSpan.FromSeconds(10), "the lifeless room to deactivate after its create");

        Assert.Equal("Room " + roomId, (await room.GetAsync()).Value().Title);
        var live = (await room.GoLiveAsync(new GoLiveCommand("After", "alice"))).Value();
        Assert.Equal(live.Live.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
        Assert.True(await ActiveAsync());
    }

    [Fact]
    public async Task CreatingARoomTwiceFailsWithRoomExistsAndKeepsTheFirst()
    {
        var (roomId, room) = await Grains.NewRoomAsync();

        var second = await room.CreateAsync(new CreateRoomCommand("Other", null, TakeoverPolicy.Reject, 5));

        second.Failure(DomainErrorCode.RoomExists);
        var read = (await room.GetAsync()).Value();
        Assert.Equal("Room " + roomId, read.Title);
        Assert.Equal(TakeoverPolicy.Takeover, read.TakeoverPolicy);
    }

    [Fact]
    public async Task AnUpdateChangesOnlyTheGivenFields()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        fixture.Time.Advance(TimeSpan.FromSeconds(3));

        var updated = (await room.UpdateAsync(new UpdateRoomCommand(null, null, TakeoverPolicy.Reject, 15))).Value();

        Assert.Equal("Room " + roomId, updated.Title);
        Assert.Equal("host-1", updated.HostId);
        Assert.Equal(TakeoverPolicy.Reject, updated.TakeoverPolicy);
        Assert.Equal(15, updated.ReconnectWindowSeconds);
        Assert.True(updated.UpdatedAt > updated.CreatedAt);

        var renamed = (await room.UpdateAsync(new UpdateRoomCommand("New title", "host-2", null, null))).Value();
        Assert.Equal("New title", renamed.Title);
        Assert.Equal("host-2", renamed.HostId);
        Assert.Equal(TakeoverPolicy.Reject, renamed.TakeoverPolicy);
        Assert.Equal(renamed, (await room.GetAsync()).Value());
    }

    [Fact]
    public async Task EveryOperationOnAMissingRoomIsNotFound()
    {
        var room = Grains.Room(GrainTestKit.NewRoomId("missing"));

        (await room.GetAsync()).Failure(DomainErrorCode.NotFound);
        (await room.UpdateAsync(new UpdateRoomCommand("x", null, null, null))).Failure(DomainErrorCode.NotFound);
        (await room.GoLiveAsync(new GoLiveCommand(null, null))).Failure(DomainErrorCode.NotFound);
        (await room.ScheduleLiveAsync(new ScheduleLiveCommand(null, null))).Failure(DomainErrorCode.NotFound);
        (await room.ListLivesAsync(10, null)).Failure(DomainErrorCode.NotFound);

        // A failed read must not have created it.
        (await room.GetAsync()).Failure(DomainErrorCode.NotFound);
    }

    [Fact]
    public async Task ARoomOfOneTenantDoesNotExistForAnother()
    {
        var (roomId, _) = await Grains.NewRoomAsync(tenant: GrainTestKit.Acme);

        (await Grains.Room(roomId, GrainTestKit.Globex).GetAsync()).Failure(DomainErrorCode.NotFound);

        // The same id is free for the other tenant, and the two rooms stay apart.
        (await Grains.Room(roomId, GrainTestKit.Globex).CreateAsync(new CreateRoomCommand("Globex's", null, TakeoverPolicy.Reject, 1))).Value();
        Assert.Equal("Room " + roomId, (await Grains.Room(roomId).GetAsync()).Value().Title);
        Assert.Equal("Globex's", (await Grains.Room(roomId, GrainTestKit.Globex).GetAsync()).Value().Title);
    }

    [Fact]
    public async Task GoLiveOnAnIdleRoomStartsALiveAndMakesItActive()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        var now = fixture.Time.GetUtcNow();

        var result = (await room.GoLiveAsync(new GoLiveCommand("Launch", "alice"))).Value();

        Assert.Null(result.ClosedLive);
        var live = result.Live;
        Assert.StartsWith("lv_", live.LiveId, StringComparison.Ordinal);
        Assert.Equal(roomId, live.RoomId);
        Assert.Equal("Launch", live.Title);
        Assert.Equal(LiveStatus.Live, live.Status);
        Assert.Equal("alice", live.StartedBy);
        Assert.Equal(now, live.StartedAt);
        Assert.Equal(now, live.CreatedAt);
        Assert.Null(live.EndReason);
        Assert.Equal(live.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
        Assert.Equal(live, (await Grains.Live(live.LiveId).GetAsync(GrainTestKit.Acme)).Value());
    }

    [Fact]
    public async Task GoLiveOnABusyRoomSupersedesThePriorLive()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var first = (await room.GoLiveAsync(new GoLiveCommand("First", "alice"))).Value().Live;
        fixture.Time.Advance(TimeSpan.FromSeconds(42));

        var second = (await room.GoLiveAsync(new GoLiveCommand("Second", "bob"))).Value();

        Assert.NotNull(second.ClosedLive);
        Assert.Equal(first.LiveId, second.ClosedLive.LiveId);
        Assert.Equal(LiveStatus.Ended, second.ClosedLive.Status);
        Assert.Equal(EndReason.Superseded, second.ClosedLive.EndReason);
        Assert.Equal(42, second.ClosedLive.DurationSeconds);
        Assert.Equal(LiveStatus.Live, second.Live.Status);
        Assert.NotEqual(first.LiveId, second.Live.LiveId);

        Assert.Equal(second.Live.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
        var closed = (await Grains.Live(first.LiveId).GetAsync(GrainTestKit.Acme)).Value();
        Assert.Equal(LiveStatus.Ended, closed.Status);
        Assert.Equal(EndReason.Superseded, closed.EndReason);
        GrainTestKit.AssertOneActiveLive((await room.GetAsync()).Value(), await room.AllLivesAsync());
    }

    [Fact]
    public async Task TheRejectPolicyRefusesGoLiveWithLiveAlreadyActiveAndChangesNothing()
    {
        var (_, room) = await Grains.NewRoomAsync(TakeoverPolicy.Reject);
        var first = (await room.GoLiveAsync(new GoLiveCommand("First", "alice"))).Value().Live;
        var roomBefore = (await room.GetAsync()).Value();
        var livesBefore = await room.AllLivesAsync();

        (await room.GoLiveAsync(new GoLiveCommand("Second", "bob"))).Failure(DomainErrorCode.LiveAlreadyActive);

        Assert.Equal(roomBefore, (await room.GetAsync()).Value());
        Assert.Equal(livesBefore, await room.AllLivesAsync());
        Assert.Equal(LiveStatus.Live, (await Grains.Live(first.LiveId).GetAsync(GrainTestKit.Acme)).Value().Status);
    }

    [Fact]
    public async Task TheRejectPolicyAllowsGoLiveAgainOnceTheActiveLiveEnded()
    {
        var (_, room) = await Grains.NewRoomAsync(TakeoverPolicy.Reject);
        var first = (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value().Live;
        (await Grains.Live(first.LiveId).TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.End))).Value();

        var second = (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value();

        Assert.Null(second.ClosedLive);
        Assert.Equal(second.Live.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
    }

    [Fact]
    public async Task AScheduledLiveGoesReadyThenStartsAndTakesOverTheActiveLive()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var when = fixture.Time.GetUtcNow().AddHours(1);
        var onAir = (await room.GoLiveAsync(new GoLiveCommand("Current", null))).Value().Live;

        var scheduled = (await room.ScheduleLiveAsync(new ScheduleLiveCommand("Planned", when))).Value();
        Assert.Equal(LiveStatus.Scheduled, scheduled.Status);
        Assert.Equal(when, scheduled.ScheduledStartTime);
        Assert.Null(scheduled.StartedAt);
        Assert.Equal(onAir.LiveId, (await room.GetAsync()).Value().ActiveLiveId);

        var planned = Grains.Live(scheduled.LiveId);
        var ready = (await planned.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Ready, "producer"))).Value();
        Assert.Equal(LiveStatus.Ready, ready.Status);
        Assert.NotNull(ready.ReadyAt);
        Assert.Equal(onAir.LiveId, (await room.GetAsync()).Value().ActiveLiveId);

        var started = (await planned.TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Start, "carol"))).Value();
        Assert.Equal(LiveStatus.Live, started.Status);
        Assert.Equal("carol", started.StartedBy);

        Assert.Equal(scheduled.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
        var superseded = (await Grains.Live(onAir.LiveId).GetAsync(GrainTestKit.Acme)).Value();
        Assert.Equal(EndReason.Superseded, superseded.EndReason);
        GrainTestKit.AssertOneActiveLive((await room.GetAsync()).Value(), await room.AllLivesAsync());
    }

    [Fact]
    public async Task StartingAScheduledLiveInARejectRoomWithAnActiveLiveIsRefused()
    {
        var (_, room) = await Grains.NewRoomAsync(TakeoverPolicy.Reject);
        var onAir = (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value().Live;
        var scheduled = (await room.ScheduleLiveAsync(new ScheduleLiveCommand(null, null))).Value();
        (await Grains.Live(scheduled.LiveId).TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Ready))).Value();

        (await Grains.Live(scheduled.LiveId).TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Start)))
            .Failure(DomainErrorCode.LiveAlreadyActive);

        Assert.Equal(onAir.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
        Assert.Equal(LiveStatus.Ready, (await Grains.Live(scheduled.LiveId).GetAsync(GrainTestKit.Acme)).Value().Status);
        Assert.Equal(LiveStatus.Live, (await Grains.Live(onAir.LiveId).GetAsync(GrainTestKit.Acme)).Value().Status);

        // Once the room is free, the same start goes through.
        (await Grains.Live(onAir.LiveId).TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.End))).Value();
        (await Grains.Live(scheduled.LiveId).TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.Start))).Value();
        Assert.Equal(scheduled.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
    }

    [Fact]
    public async Task EndingTheActiveLiveClearsActiveLiveId()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var live = (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value().Live;

        var ended = (await Grains.Live(live.LiveId).TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.End, "alice"))).Value();

        Assert.Equal(LiveStatus.Ended, ended.Status);
        Assert.Equal(EndReason.Ended, ended.EndReason);
        Assert.Equal("alice", ended.EndedBy);
        Assert.Null((await room.GetAsync()).Value().ActiveLiveId);
    }

    [Fact]
    public async Task EndingAnInactiveScheduledLiveLeavesTheActiveLiveAlone()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var onAir = (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value().Live;
        var scheduled = (await room.ScheduleLiveAsync(new ScheduleLiveCommand(null, null))).Value();

        var cancelled = (await Grains.Live(scheduled.LiveId).TransitionAsync(GrainTestKit.Acme, new LiveCommand(LiveCommandKind.End))).Value();

        Assert.Equal(EndReason.Cancelled, cancelled.EndReason);
        Assert.Equal(onAir.LiveId, (await room.GetAsync()).Value().ActiveLiveId);
    }

    [Fact]
    public async Task HistoryPagesNewestFirstWithCursorsUntilTheEnd()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var created = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            created.Add(i % 2 == 0
                ? (await room.GoLiveAsync(new GoLiveCommand($"L{i}", null))).Value().Live.LiveId
                : (await room.ScheduleLiveAsync(new ScheduleLiveCommand($"L{i}", null))).Value().LiveId);
        }

        var pages = new List<LivePage>();
        string? cursor = null;
        do
        {
            var page = (await room.ListLivesAsync(2, cursor)).Value();
            pages.Add(page);
            cursor = page.NextCursor;
        }
        while (cursor is not null && pages.Count < 10);

        Assert.Equal([2, 2, 2, 1], pages.Select(p => p.Items.Count));
        Assert.Null(pages[^1].NextCursor);
        Assert.Equal(Enumerable.Reverse(created), pages.SelectMany(p => p.Items).Select(l => l.LiveId));

        // A cursor keeps its place even when newer lives arrive meanwhile.
        var secondPageAgain = (await room.ListLivesAsync(2, pages[0].NextCursor)).Value();
        (await room.GoLiveAsync(new GoLiveCommand("newest", null))).Value();
        var afterNewer = (await room.ListLivesAsync(2, pages[0].NextCursor)).Value();
        Assert.Equal(secondPageAgain.Items, afterNewer.Items);
        Assert.Equal(secondPageAgain.NextCursor, afterNewer.NextCursor);
    }

    [Theory]
    [InlineData("not-a-cursor!")]
    [InlineData("cDo5OTk5")]
    [InlineData("")]
    [InlineData("eDox")]
    public async Task ABadCursorIsAValidationError(string cursor)
    {
        var (_, room) = await Grains.NewRoomAsync();
        (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value();

        var error = (await room.ListLivesAsync(10, cursor)).Failure(DomainErrorCode.ValidationFailed);

        Assert.Equal("cursor", error.Field);
    }

    [Fact]
    public async Task AnEmptyRoomHasAnEmptyHistory()
    {
        var (_, room) = await Grains.NewRoomAsync();

        var page = (await room.ListLivesAsync(20, null)).Value();

        Assert.Empty(page.Items);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task TwoHundredConcurrentGoLivesLeaveExactlyOneLiveOnAir()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        const int calls = 200;

        // Each task gets its own grain reference, as independent callers would.
        var results = await Task.WhenAll(Enumerable.Range(0, calls).Select(i => Task.Run(async () =>
            (await Grains.Room(roomId).GoLiveAsync(new GoLiveCommand($"race {i}", $"host-{i}"))).Value())));

        var roomNow = (await room.GetAsync()).Value();
        var lives = await room.AllLivesAsync();
        Assert.Equal(calls, lives.Count);
        Assert.Equal(calls, lives.Select(l => l.LiveId).Distinct().Count());
        GrainTestKit.AssertOneActiveLive(roomNow, lives);
        var active = Assert.Single(lives, l => l.Status == LiveStatus.Live);
        Assert.Equal(roomNow.ActiveLiveId, active.LiveId);
        Assert.All(lives.Where(l => l.LiveId != active.LiveId), l =>
        {
            Assert.Equal(LiveStatus.Ended, l.Status);
            Assert.Equal(EndReason.Superseded, l.EndReason);
        });
        var ids = lives.Select(l => l.LiveId).ToHashSet();
        Assert.All(results, r => Assert.Contains(r.Live.LiveId, ids));

        // Every call but the first closed exactly one live, and no live was closed twice.
        var closed = results.Where(r => r.ClosedLive is not null).Select(r => r.ClosedLive!.LiveId).ToList();
        Assert.Equal(calls - 1, closed.Count);
        Assert.Equal(closed.Count, closed.Distinct().Count());
        Assert.DoesNotContain(active.LiveId, closed);
    }
}

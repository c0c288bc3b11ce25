using LiveGrains.Abstractions;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests;

/// <summary>Descriptions, metadata, visibility, the actors of every transition and the audit trail of a live.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RoomAndLiveDetailsTests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task EveryTransitionsActorIsKeptOnTheLiveAndInItsTrailAlsoAfterTheArchive()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var scheduled = (await room.ScheduleLiveAsync(new ScheduleLiveCommand(null, null, Details: new ResourceDetails(CreatedBy: "planner")))).Value();
        var live = Grains.Live(scheduled.LiveId);
        var steps = new (LiveCommandKind Kind, string By)[]
        {
            (LiveCommandKind.Ready, "producer"), (LiveCommandKind.Start, "host-a"), (LiveCommandKind.Pause, "host-b"),
            (LiveCommandKind.Resume, "host-c"), (LiveCommandKind.End, "moderator"),
        };
        LiveDto last = scheduled;
        foreach (var (kind, by) in steps)
        {
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
            last = (await live.TransitionAsync(GrainTestKit.Acme, new LiveCommand(kind, by))).Value();
        }

        Assert.Equal(("planner", "producer", "host-a", "host-b", "host-c", "moderator"),
            (last.CreatedBy, last.ReadyBy, last.StartedBy, last.PausedBy, last.ResumedBy, last.EndedBy));
        Assert.Equal(last.EndedAt, last.UpdatedAt);
        var expected = new (LiveStatus? From, LiveStatus To, string By, EndReason? Reason)[]
        {
            (null, LiveStatus.Scheduled, "planner", null), (LiveStatus.Scheduled, LiveStatus.Ready, "producer", null),
            (LiveStatus.Ready, LiveStatus.Live, "host-a", null), (LiveStatus.Live, LiveStatus.Paused, "host-b", null),
            (LiveStatus.Paused, LiveStatus.Live, "host-c", null), (LiveStatus.Live, LiveStatus.Ended, "moderator", EndReason.Ended),
        };

        var trail = (await live.GetTransitionsAsync(GrainTestKit.Acme)).Value();
        Assert.Equal(expected, trail.Select(t => (t.From, t.To, t.By!, t.Reason)));
        Assert.Equal(trail.Select(t => t.At).Order(), trail.Select(t => t.At));
        Assert.Equal(scheduled.CreatedAt, trail[0].At);

        // Ended lives leave the room for their own grain: the trail goes with them.
        await Eventually.TrueAsync(async () => await live.GetArchivedAsync(GrainTestKit.Acme) is not null, TimeSpan.FromSeconds(20), "the live is archived");
        Assert.Equal(expected, (await live.GetTransitionsAsync(GrainTestKit.Acme)).Value().Select(t => (t.From, t.To, t.By!, t.Reason)));
        Assert.Equal("producer", (await live.GetAsync(GrainTestKit.Acme)).Value().ReadyBy);
        (await live.GetTransitionsAsync(GrainTestKit.Globex)).Failure(DomainErrorCode.NotFound);
    }

    [Fact]
    public async Task ASupersededLivesTrailNamesWhoTookTheRoomAndWhy()
    {
        var (_, room) = await Grains.NewRoomAsync();
        var first = (await room.GoLiveAsync(new GoLiveCommand(null, "host-1"))).Value().Live;
        var second = (await room.GoLiveAsync(new GoLiveCommand(null, "host-2"))).Value();

        var trail = (await Grains.Live(first.LiveId).GetTransitionsAsync(GrainTestKit.Acme)).Value();
        Assert.Equal(
            [(null, LiveStatus.Live, "host-1", null), (LiveStatus.Live, LiveStatus.Ended, "host-2", EndReason.Superseded)],
            trail.Select(t => (t.From, t.To, t.By, t.Reason)));
        Assert.Equal("host-2", second.Live.CreatedBy);
        Assert.Equal("host-1", first.CreatedBy);
        (await Grains.Live(first.LiveId).GetTransitionsAsync(GrainTestKit.Globex)).Failure(DomainErrorCode.NotFound);
    }

    [Fact]
    public async Task ALiveInheritsItsRoomsVisibilityAndTitleUnlessItHasItsOwn()
    {
        var roomId = GrainTestKit.NewRoomId();
        var room = Grains.Room(roomId);
        var created = (await room.CreateAsync(new CreateRoomCommand(
            "Channel", null, TakeoverPolicy.Takeover, 60, Details: new ResourceDetails("About", new() { ["tier"] = "gold" }, Visibility.Private, "ops")))).Value();
        Assert.Equal(("About", "gold", Visibility.Private, "ops"), (created.Description, created.Metadata!["tier"], created.Visibility, created.CreatedBy));

        var inherits = (await room.ScheduleLiveAsync(new ScheduleLiveCommand(null, null))).Value();
        var own = (await room.ScheduleLiveAsync(new ScheduleLiveCommand("Own title", null, Details: new ResourceDetails(Visibility: Visibility.Limited)))).Value();
        Assert.Equal((Visibility.Private, "Channel"), (inherits.Visibility, inherits.Title));
        Assert.Equal((Visibility.Limited, "Own title"), (own.Visibility, own.Title));

        // The room changes: a live without its own follows it.
        var updated = (await room.UpdateAsync(new UpdateRoomCommand("Renamed", null, null, null, new ResourceDetails(Visibility: Visibility.Public)))).Value();
        Assert.Equal(("About", Visibility.Public), (updated.Description, updated.Visibility));
        Assert.Equal((Visibility.Public, "Renamed"), Pick((await Grains.Live(inherits.LiveId).GetAsync(GrainTestKit.Acme)).Value()));
        Assert.Equal((Visibility.Limited, "Own title"), Pick((await Grains.Live(own.LiveId).GetAsync(GrainTestKit.Acme)).Value()));

        // Metadata is replaced as a whole; an empty description clears it; what is not given stays.
        var patched = (await room.UpdateAsync(new UpdateRoomCommand(null, null, null, null, new ResourceDetails("", new() { ["a"] = "1" })))).Value();
        Assert.Null(patched.Description);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, patched.Metadata);
        Assert.Equal(Visibility.Public, patched.Visibility);

        static (Visibility, string?) Pick(LiveDto live) => (live.Visibility, live.Title);
    }
}

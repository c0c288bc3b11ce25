using LiveGrains.Abstractions;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests.Listing;

/// <summary>
/// The tenant-wide listings over the sharded indexes: order, filters, paging (also while lives change), freshness
/// within 2 s and tenant isolation. Each test uses a tenant of its own, so other tests' rooms never show up.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ListingGrainTests(ClusterFixture fixture)
{
    /// <summary>api.md: "A transition or stats change shows here within 2 s".</summary>
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(2);

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task RoomsAreListedNewestFirstAcrossShardsPageByPageWithoutGapsOrRepeats()
    {
        var tenant = NewTenant();
        var created = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            created.Add(await CreateRoomAsync(tenant, $"r{i:00}-{Guid.NewGuid():N}"[..16]));
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.True(created.Select(IndexShards.Of).Distinct().Count() > 1, "the rooms spread over several shards");
        var pages = new List<IReadOnlyList<RoomDto>>();
        string? cursor = null;
        do
        {
            var page = (await Listing(tenant).ListRoomsAsync(5, cursor)).Value();
            Assert.True(page.Items.Count <= 5);
            pages.Add(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        var listed = pages.SelectMany(p => p).Select(r => r.RoomId).ToList();
        Assert.Equal(Enumerable.Reverse(created), listed);
        Assert.Equal(5, pages[0].Count);
        Assert.Equal(3, pages[4].Count);
    }

    [Fact]
    public async Task AnotherTenantsRoomsLivesAndStreamsAreNeverListed()
    {
        var acme = NewTenant();
        var globex = NewTenant();
        var sharedId = "same-" + Guid.NewGuid().ToString("N")[..8];
        await CreateRoomAsync(acme, sharedId);
        var globexRoom = await CreateRoomAsync(globex, sharedId);
        var globexLive = (await Room(globex, globexRoom).GoLiveAsync(new GoLiveCommand(null, null))).Value().Live;
        await Grains.GetGrain<IStreamGrain>(Ids.NewStreamId(fixture.Time.GetUtcNow())).CreateAsync(globex, new CreateStreamCommand(globexRoom, null, RecordingMode.Off));

        // The other tenant's live is indexed (its own listing shows it) ...
        await Eventually.TrueAsync(
            async () => (await Listing(globex).ListLivesAsync(Query())).Value!.Items.Any(l => l.LiveId == globexLive.LiveId),
            Freshness, "the live shows in its own tenant's listing");

        // ... and never in this tenant's, whose room has the same id.
        var rooms = (await Listing(acme).ListRoomsAsync(100, null)).Value();
        var lives = (await Listing(acme).ListLivesAsync(Query())).Value();
        var streams = (await Listing(acme).ListStreamsAsync(null, false, 100, null)).Value();
        var roomStreams = (await Listing(acme).ListStreamsAsync(sharedId, true, 100, null)).Value();
        Assert.Equal([sharedId], rooms.Items.Select(r => r.RoomId));
        Assert.Empty(lives.Items);
        Assert.Empty(streams.Items);
        Assert.Empty(roomStreams.Items);
        Assert.Equal(DomainErrorCode.NotFound, (await Listing(acme).ListStreamsAsync("never-created", true, 10, null)).Error!.Code);
    }

    [Fact]
    public async Task LivesAreFilteredByStatusAndRoomAndOrderedByCreationOrStart()
    {
        var tenant = NewTenant();
        var roomA = await CreateRoomAsync(tenant, "a-" + Guid.NewGuid().ToString("N")[..8]);
        var roomB = await CreateRoomAsync(tenant, "b-" + Guid.NewGuid().ToString("N")[..8]);

        var scheduled = await ScheduleAsync(tenant, roomA);    // created 1st, never started
        var ended = await ScheduleAsync(tenant, roomB);        // created 2nd, started 1st, ended
        var paused = await ScheduleAsync(tenant, roomA);       // created 3rd, started 3rd, paused
        var live = await ScheduleAsync(tenant, roomB);         // created 4th, started 2nd
        await StartAsync(tenant, ended);
        await EndAsync(tenant, ended);
        await StartAsync(tenant, live);
        await StartAsync(tenant, paused);
        (await Grains.TransitionLiveAsync(tenant, paused, new LiveCommand(LiveCommandKind.Pause, "host"))).Value();

        await ListsAsync(tenant, Query(), [live, paused, ended, scheduled]);
        await ListsAsync(tenant, Query(statuses: [LiveStatus.Live, LiveStatus.Paused]), [live, paused]);
        await ListsAsync(tenant, Query(statuses: [LiveStatus.Paused]), [paused]);
        await ListsAsync(tenant, Query(LiveOrder.StartedAt), [paused, live, ended, scheduled]);
        await ListsAsync(tenant, Query(statuses: [LiveStatus.Ended]), [ended]);
        await ListsAsync(tenant, Query(roomId: roomA), [paused, scheduled]);
        await ListsAsync(tenant, Query(roomId: roomA, statuses: [LiveStatus.Scheduled]), [scheduled]);
        await ListsAsync(tenant, Query(LiveOrder.StartedAt, roomId: roomB), [live, ended]);
        Assert.Empty(await LivesAsync(tenant, Query(roomId: roomB, statuses: [LiveStatus.Scheduled, LiveStatus.Ready])));
    }

    [Fact]
    public async Task ATransitionShowsInTheListingWithinTwoSeconds()
    {
        var tenant = NewTenant();
        var roomId = await CreateRoomAsync(tenant, "fresh-" + Guid.NewGuid().ToString("N")[..8]);
        var onAir = Query(statuses: [LiveStatus.Live]);

        var live = (await Room(tenant, roomId).GoLiveAsync(new GoLiveCommand(null, "host"))).Value().Live.LiveId;
        await Eventually.TrueAsync(async () => (await LivesAsync(tenant, onAir)).Contains(live), Freshness, "the new live is listed as live");

        await EndAsync(tenant, live);
        await Eventually.TrueAsync(async () => (await LivesAsync(tenant, onAir)).Count == 0, Freshness, "the ended live leaves the live listing");
        await Eventually.TrueAsync(
            async () => (await LivesAsync(tenant, Query(statuses: [LiveStatus.Ended]))).Contains(live), Freshness, "the ended live is listed as ended");
    }

    [Fact]
    public async Task TheLiveNowPageFollowsTheAudienceWithinTwoSeconds()
    {
        var tenant = NewTenant();
        var lives = new List<string>();
        foreach (var _ in Enumerable.Range(0, 3))
        {
            var roomId = await CreateRoomAsync(tenant, "aud-" + Guid.NewGuid().ToString("N")[..8]);
            lives.Add((await Room(tenant, roomId).GoLiveAsync(new GoLiveCommand(null, null))).Value().Live.LiveId);
        }

        var byAudience = Query(LiveOrder.ViewerCount, [LiveStatus.Live]);
        await EventuallyLivesAsync(tenant, byAudience, ids => ids.Count == 3);

        await JoinAsync(tenant, lives[0], 2);
        await JoinAsync(tenant, lives[1], 5);
        await JoinAsync(tenant, lives[2], 1);
        Assert.Equal(
            [lives[1], lives[0], lives[2]],
            await EventuallyLivesAsync(tenant, byAudience, ids => ids.SequenceEqual([lives[1], lives[0], lives[2]]), Freshness));

        // The audience moves: the smallest becomes the largest.
        await JoinAsync(tenant, lives[2], 9, "more");
        var page = await Eventually.ValueAsync(
            () => Listing(tenant).ListLivesAsync(byAudience with { Limit = 2 }),
            p => p.Value!.Items.Select(l => l.LiveId).SequenceEqual([lives[2], lives[1]]),
            Freshness,
            "the live with the new audience leads the page");
        Assert.Equal([10L, 5L], page.Value!.Items.Select(l => l.Stats.ViewerCount));
        var rest = (await Listing(tenant).ListLivesAsync(byAudience with { Limit = 2, Cursor = page.Value.NextCursor })).Value();
        Assert.Equal([lives[0]], rest.Items.Select(l => l.LiveId));
        Assert.Null(rest.NextCursor);
    }

    [Fact]
    public async Task PagingWhileLivesChangeListsEveryEarlierLiveExactlyOnce()
    {
        var tenant = NewTenant();
        var rooms = new List<string>();
        var earlier = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var roomId = await CreateRoomAsync(tenant, $"pg{i:00}-" + Guid.NewGuid().ToString("N")[..6]);
            rooms.Add(roomId);
            earlier.Add(await ScheduleAsync(tenant, roomId));
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
        }

        await EventuallyLivesAsync(tenant, Query(), ids => ids.Count == 12);
        var seen = new List<string>();
        string? cursor = null;
        var round = 0;
        do
        {
            var page = (await Listing(tenant).ListLivesAsync(Query() with { Limit = 5, Cursor = cursor })).Value();
            seen.AddRange(page.Items.Select(l => l.LiveId));
            cursor = page.NextCursor;

            // Between pages: new lives (newer than the cursor: never on a later page), and lives already listed and
            // not yet listed change status (their place in created_at order does not move).
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
            await ScheduleAsync(tenant, rooms[round]);
            await StartAsync(tenant, earlier[round]);
            await StartAsync(tenant, earlier[11 - round]);
            await EndAsync(tenant, earlier[11 - round]);
            round++;
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Reverse(earlier), seen);
    }

    [Fact]
    public async Task AnUnknownOrForeignCursorIsAValidationError()
    {
        var tenant = NewTenant();
        var error = (await Listing(tenant).ListLivesAsync(Query() with { Cursor = "not-a-cursor" })).Error!;
        Assert.Equal(DomainErrorCode.ValidationFailed, error.Code);
        Assert.Equal("cursor", error.Field);

        // A cursor of one order is refused by another (its key means something else there).
        for (var i = 0; i < 3; i++)
        {
            await ScheduleAsync(tenant, await CreateRoomAsync(tenant, "cur-" + Guid.NewGuid().ToString("N")[..8]));
        }

        await EventuallyLivesAsync(tenant, Query(), ids => ids.Count == 3);
        var first = (await Listing(tenant).ListLivesAsync(Query() with { Limit = 1 })).Value();
        Assert.NotNull(first.NextCursor);
        Assert.Equal(
            DomainErrorCode.ValidationFailed,
            (await Listing(tenant).ListLivesAsync(Query(LiveOrder.ViewerCount) with { Cursor = first.NextCursor })).Error!.Code);
        Assert.Equal(DomainErrorCode.ValidationFailed, (await Listing(tenant).ListRoomsAsync(5, first.NextCursor)).Error!.Code);
    }

    [Fact]
    public async Task ADeletedRoomLeavesTheRoomsListingWhileItsLivesStayReadableAndListed()
    {
        var tenant = NewTenant();
        var roomId = await CreateRoomAsync(tenant, "del-" + Guid.NewGuid().ToString("N")[..8]);
        var room = Room(tenant, roomId);
        var onAir = (await room.GoLiveAsync(new GoLiveCommand(null, null))).Value().Live.LiveId;
        var scheduled = await ScheduleAsync(tenant, roomId);

        (await room.DeleteAsync(null)).Failure(DomainErrorCode.LiveAlreadyActive);
        Assert.True((await room.GetAsync()).IsSuccess);

        await EndAsync(tenant, onAir);
        Assert.True((await room.DeleteAsync(null)).Value());

        (await room.GetAsync()).Failure(DomainErrorCode.NotFound);
        (await room.GoLiveAsync(new GoLiveCommand(null, null))).Failure(DomainErrorCode.NotFound);
        (await room.DeleteAsync(null)).Failure(DomainErrorCode.NotFound);
        Assert.Empty((await Listing(tenant).ListRoomsAsync(10, null)).Value().Items);
        var cancelled = (await Grains.GetGrain<ILiveGrain>(scheduled).GetAsync(tenant)).Value();
        Assert.Equal(LiveStatus.Ended, cancelled.Status);
        Assert.Equal(EndReason.Cancelled, cancelled.EndReason);
        Assert.Equal(LiveStatus.Ended, (await Grains.GetGrain<ILiveGrain>(onAir).GetAsync(tenant)).Value().Status);
        await EventuallyLivesAsync(tenant, Query(statuses: [LiveStatus.Ended]), ids => ids.Count == 2, Freshness);

        // The id can be used again: a new room, empty listing of streams.
        await CreateRoomAsync(tenant, roomId);
        Assert.Equal([roomId], (await Listing(tenant).ListRoomsAsync(10, null)).Value().Items.Select(r => r.RoomId));
    }

    [Fact]
    public async Task StreamsAreListedPerTenantAndPerRoomNewestFirst()
    {
        var tenant = NewTenant();
        var roomA = await CreateRoomAsync(tenant, "sa-" + Guid.NewGuid().ToString("N")[..8]);
        var roomB = await CreateRoomAsync(tenant, "sb-" + Guid.NewGuid().ToString("N")[..8]);
        var streams = new List<(string Id, string Room)>();
        foreach (var roomId in new[] { roomA, roomB, roomA, roomB, roomA })
        {
            var id = Ids.NewStreamId(fixture.Time.GetUtcNow());
            (await Grains.GetGrain<IStreamGrain>(id).CreateAsync(tenant, new CreateStreamCommand(roomId, null, RecordingMode.Off))).Value();
            streams.Add((id, roomId));
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var all = (await Listing(tenant).ListStreamsAsync(null, false, 100, null)).Value();
        Assert.Equal(streams.Select(s => s.Id).Reverse(), all.Items.Select(s => s.StreamId));

        var first = (await Listing(tenant).ListStreamsAsync(roomA, true, 2, null)).Value();
        var second = (await Listing(tenant).ListStreamsAsync(roomA, true, 2, first.NextCursor)).Value();
        Assert.Equal(
            streams.Where(s => s.Room == roomA).Select(s => s.Id).Reverse(),
            first.Items.Concat(second.Items).Select(s => s.StreamId));
        Assert.Null(second.NextCursor);
        Assert.All(first.Items.Concat(second.Items), s => Assert.Equal(roomA, s.RoomId));
    }

    private static string NewTenant() => "t-" + Guid.NewGuid().ToString("N")[..12];

    private static LiveListQuery Query(LiveOrder order = LiveOrder.CreatedAt, LiveStatus[]? statuses = null, string? roomId = null) =>
        new(order, statuses, roomId, 100, null);

    private ITenantListingGrain Listing(string tenant) => Grains.GetGrain<ITenantListingGrain>(tenant);

    private IRoomGrain Room(string tenant, string roomId) => Grains.Room(roomId, tenant);

    private async Task<string> CreateRoomAsync(string tenant, string roomId)
    {
        (await Room(tenant, roomId).CreateAsync(new CreateRoomCommand("Room " + roomId, null, TakeoverPolicy.Takeover, 60))).Value();
        return roomId;
    }

    private async Task<string> ScheduleAsync(string tenant, string roomId)
    {
        var live = (await Room(tenant, roomId).ScheduleLiveAsync(new ScheduleLiveCommand(null, null))).Value();
        fixture.Time.Advance(TimeSpan.FromMilliseconds(10));
        return live.LiveId;
    }

    private async Task StartAsync(string tenant, string liveId)
    {
        (await Grains.TransitionLiveAsync(tenant, liveId, new LiveCommand(LiveCommandKind.Start, "host"))).Value();
        fixture.Time.Advance(TimeSpan.FromMilliseconds(10));
    }

    private async Task EndAsync(string tenant, string liveId) =>
        (await Grains.TransitionLiveAsync(tenant, liveId, new LiveCommand(LiveCommandKind.End, "host"))).Value();

    private async Task JoinAsync(string tenant, string liveId, int viewers, string prefix = "v")
    {
        var ids = Enumerable.Range(0, viewers).Select(i => $"{prefix}{i}").ToArray();
        (await Grains.GetGrain<ILiveActivityGrain>(liveId).RecordAsync(tenant, new ActivityRequest(Joins: ids))).Value();
    }

    private async Task<List<string>> LivesAsync(string tenant, LiveListQuery query) =>
        [.. (await Listing(tenant).ListLivesAsync(query)).Value().Items.Select(l => l.LiveId)];

    /// <summary>The listing shows exactly <paramref name="expected"/>, in order, within 2 s of the last change.</summary>
    private Task ListsAsync(string tenant, LiveListQuery query, string[] expected) =>
        EventuallyLivesAsync(tenant, query, ids => ids.SequenceEqual(expected), Freshness);

    private Task<List<string>> EventuallyLivesAsync(string tenant, LiveListQuery query, Func<List<string>, bool> accept, TimeSpan? within = null) =>
        Eventually.ValueAsync(() => LivesAsync(tenant, query), accept, within ?? TimeSpan.FromSeconds(10), "the listing to show the lives");
}

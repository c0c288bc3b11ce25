using System.Net;
using LiveGrains.Client;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Client;

/// <summary>
/// The typed client's later resources against the real gateway pipeline: presets and their limits, host presence,
/// stream PATCH/DELETE, videos, the event feed and cursor paging; each with a typed error and its problem code.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class LiveGrainsClientResourceTests(GatewayFactory factory)
{
    private const string HookSecret = "test-hook-secret";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task PresetsAndTheLimitsTheyImposeGoThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;

        var preset = await client.CreatePresetAsync(new CreatePresetRequest(Http.Unique("quiet"), ChatEnabled: false, MaxJoinLimit: 1));
        Assert.Equal((false, 1, false, false), (preset.ChatEnabled, preset.MaxJoinLimit, preset.RecordingEnabled, preset.IsDefault));
        Assert.Equal(preset, await client.GetPresetAsync(preset.PresetId));
        Assert.Contains(await client.ListPresetsAsync(), p => p.PresetId == preset.PresetId);
        var updated = await client.UpdatePresetAsync(preset.PresetId, new UpdatePresetRequest(MaxJoinLimit: 2));
        Assert.Equal((2, preset.Name, false), (updated.MaxJoinLimit, updated.Name, updated.ChatEnabled));

        var roomId = Http.Unique("client-preset");
        Assert.Equal(preset.PresetId, (await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId, PresetId: preset.PresetId))).PresetId);
        var live = (await client.GoLiveAsync(roomId)).Live;
        Assert.Equal((false, 2, false), (live.EffectiveChatEnabled, live.EffectiveMaxJoinLimit, live.EffectiveRecordingEnabled));

        await client.JoinAsync(live.LiveId, "a");
        await client.JoinAsync(live.LiveId, "b");
        var full = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.JoinAsync(live.LiveId, "c"));
        Assert.Equal((HttpStatusCode.Conflict, "join_limit_reached"), (full.Status, full.Code));
        var batch = await client.RecordActivityAsync(live.LiveId, new ActivityBatch(Joins: ["d", "e"], Likes: 1));
        Assert.Equal((1, 2), (batch.Accepted, batch.Rejected));
        var muted = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.CountChatMessagesAsync(live.LiveId));
        Assert.Equal((HttpStatusCode.Conflict, "chat_disabled"), (muted.Status, muted.Code));

        // An override set on the live wins over the preset; clearing it (an explicit null) falls back to the preset.
        var chatty = await client.UpdateLiveAsync(live.LiveId, new UpdateLiveRequest(ChatEnabledOverride: true));
        Assert.Equal((true, true), (chatty.ChatEnabledOverride, chatty.EffectiveChatEnabled));
        await client.CountChatMessagesAsync(live.LiveId, 2);
        var cleared = await client.UpdateLiveAsync(live.LiveId, new UpdateLiveRequest(ClearFields: ["chat_enabled_override"]));
        Assert.Equal((null, false), (cleared.ChatEnabledOverride, cleared.EffectiveChatEnabled));

        await client.DeletePresetAsync(preset.PresetId);
        var gone = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.GetPresetAsync(preset.PresetId));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (gone.Status, gone.Code));
        Assert.Equal(HttpMethod.Get, gone.Method);
        Assert.Equal($"/v1/presets/{preset.PresetId}", gone.Path);
    }

    [Fact]
    public async Task TheHostEntersAndExitsThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-host");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var live = (await client.GoLiveAsync(roomId, new GoLiveRequest(Mode: "whip"))).Live;
        Assert.Equal(("whip", null), (live.Mode, live.Host?.State));

        var entered = await client.EnterHostAsync(live.LiveId, by: "alice");
        Assert.Equal(("entered", "alice", false), (entered.Host?.State, entered.Host?.By, entered.Host?.IsStreaming));
        Assert.NotNull(entered.Host?.EnteredAt);
        var exited = await client.ExitHostAsync(live.LiveId);
        Assert.Equal(("exited", entered.Host?.EnteredAt), (exited.Host?.State, exited.Host?.EnteredAt));
        Assert.NotNull(exited.Host?.ExitedAt);
        Assert.Equal($"https://watch.example.com/{roomId}/{live.LiveId}", exited.WatchUrl);

        await client.EndAsync(live.LiveId);
        var ended = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.EnterHostAsync(live.LiveId));
        Assert.Equal((HttpStatusCode.Conflict, "live_ended"), (ended.Status, ended.Code));
    }

    [Fact]
    public async Task DestinationsCoHostsAndWebhookFormatsGoThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-dest");
        var room = await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId, HostId: "host", CoHostIds: ["co-a", "co-b"]));
        Assert.Equal(["co-a", "co-b"], room.CoHostIds);
        Assert.Equal(["co-c"], (await client.UpdateRoomAsync(roomId, new UpdateRoomRequest(CoHostIds: ["co-c"]))).CoHostIds);

        // A status-only destination (no url) is online exactly while the room has a live on air.
        var twitch = await client.CreateDestinationAsync(roomId, new CreateDestinationRequest("twitch", BroadcasterId: "b1", BroadcasterLogin: "shop"));
        var pushed = await client.CreateDestinationAsync(roomId, new CreateDestinationRequest("rtmp", Url: "rtmp://127.0.0.1:1/app", StreamKey: "secret-key"));
        Assert.Equal(("offline", false, true), (twitch.Status, twitch.HasStreamKey, pushed.HasStreamKey));
        Assert.Equal([twitch.DestinationId, pushed.DestinationId], (await client.ListDestinationsAsync(roomId)).Select(d => d.DestinationId));

        var live = (await client.GoLiveAsync(roomId, new GoLiveRequest())).Live;
        var online = await client.GetDestinationAsync(twitch.DestinationId);
        Assert.Equal(("online", live.LiveId), (online.Status, online.LiveId));
        await client.EndAsync(live.LiveId);
        Assert.Equal("offline", (await client.GetDestinationAsync(twitch.DestinationId)).Status);

        var disabled = await client.UpdateDestinationAsync(pushed.DestinationId, new UpdateDestinationRequest(Enabled: false));
        Assert.False(disabled.Enabled);
        var invalid = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.UpdateDestinationAsync(pushed.DestinationId, new UpdateDestinationRequest(Url: "http://not-rtmp")));
        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (invalid.Status, invalid.Code));
        await client.DeleteDestinationAsync(pushed.DestinationId);
        var gone = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.GetDestinationAsync(pushed.DestinationId));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (gone.Status, gone.Code));

        var webhook = await client.CreateWebhookAsync(new CreateWebhookRequest("https://example.com/gcore-hooks", Format: "gcore"));
        Assert.Equal("gcore", webhook.Format);
        Assert.Equal("gcore", (await client.GetWebhookAsync(webhook.WebhookId)).Format);
        await client.DeleteWebhookAsync(webhook.WebhookId);
    }

    [Fact]
    public async Task StreamsAreBoundPatchedAndDeletedThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-stream-patch");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var scheduled = await client.ScheduleLiveAsync(roomId, new ScheduleLiveRequest(Title: "Bound"));

        var stream = await client.CreateStreamAsync(new CreateStreamRequest(roomId, LiveId: scheduled.LiveId, Name: "cam-a", Role: "backup", Enabled: false));
        Assert.Equal(("cam-a", "backup", false, scheduled.LiveId), (stream.Name, stream.Role, stream.Enabled, stream.BoundLiveId));

        var patched = await client.UpdateStreamAsync(stream.StreamId, new UpdateStreamRequest(Name: "cam-b", ReconnectWindowSeconds: 45, Enabled: true));
        Assert.Equal(("cam-b", 45, true, "backup"), (patched.Name, patched.ReconnectWindowSeconds, patched.Enabled, patched.Role));
        Assert.Equal("cam-b", (await client.GetStreamAsync(stream.StreamId)).Name);
        var invalid = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.UpdateStreamAsync(stream.StreamId, new UpdateStreamRequest(ReconnectWindowSeconds: -5)));
        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (invalid.Status, invalid.Code));
        Assert.Contains("reconnect_window_seconds", invalid.Errors.Keys);

        await client.DeleteStreamAsync(stream.StreamId);
        var gone = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.GetStreamAsync(stream.StreamId));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (gone.Status, gone.Code));
        Assert.Empty((await client.ListRoomStreamsAsync(roomId)).Items);
    }

    [Fact]
    public async Task VideosAreListedReadAndDeletedThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-videos");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var stream = await client.CreateStreamAsync(new CreateStreamRequest(roomId));

        // The media server's side (not the client's): a publish, then a finished recording that is not media.
        using var hooks = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await HookAsync(hooks, "publish", stream.StreamKey!, null));
        var liveId = (await client.GetStreamAsync(stream.StreamId)).LiveId!;
        var directory = TestDirectories.Create("client-videos");
        var file = Path.Combine(directory, stream.StreamKey + "-1.flv");
        await File.WriteAllTextAsync(file, "not a video");
        Assert.Equal(HttpStatusCode.OK, await HookAsync(hooks, "record_done", stream.StreamKey!, file));

        var videos = await Eventually.ValueAsync(
            async () => await client.ListAllVideosAsync(liveId, pageSize: 1).ToListAsync(),
            v => v.Count == 1 && v[0].Status != "pending",
            Deadline,
            "the recording is listed as a probed video");
        var video = videos[0];
        Assert.Equal(("failed", stream.StreamId, roomId, liveId), (video.Status, video.StreamId, video.RoomId, video.LiveId));
        Assert.Equal(video, await client.GetVideoAsync(video.VideoId));
        Assert.Contains((await client.ListVideosAsync(liveId)).Items, v => v.VideoId == video.VideoId);

        await client.DeleteVideoAsync(video.VideoId);
        var gone = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.GetVideoAsync(video.VideoId));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (gone.Status, gone.Code));
        TestDirectories.TryDelete(directory);
    }

    [Fact]
    public async Task TheEventFeedIsReadPageByPageFromACursorThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;

        // Where the feed stands now: page until the cursor stops moving.
        string? start = null;
        while ((await client.ListEventsAsync(start, limit: 100)).NextCursor is { } next && next != start)
        {
            start = next;
        }

        var roomId = Http.Unique("client-feed");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var liveId = (await client.GoLiveAsync(roomId)).Live.LiveId;
        await client.PauseAsync(liveId);
        await client.EndAsync(liveId);

        var mine = await Eventually.ValueAsync(
            async () => (await client.ReadEventsAsync(start, pageSize: 2).ToListAsync())
                .Where(e => e.Data.TryGetProperty("room_id", out var room) && room.GetString() == roomId).ToList(),
            events => events.Count(e => e.Type.StartsWith("live.", StringComparison.Ordinal)) == 3,
            Deadline,
            "the live's three events in the feed");
        // In order per resource (the feed promises no order across resources: the room's and the live's shards merge by time).
        Assert.Single(mine, e => e.Type == "room.created");
        var live = mine.Where(e => e.Type.StartsWith("live.", StringComparison.Ordinal)).ToList();
        Assert.Equal(["live.started", "live.paused", "live.ended"], live.Select(e => e.Type));
        Assert.Equal([1L, 2, 3], live.Select(e => e.Data.GetProperty("sequence").GetInt64()));
        Assert.Equal(mine.Count, mine.Select(e => e.Id).Distinct().Count());

        // A type filter, and a cursor that stands still once everything is read.
        var paused = await client.ListEventsAsync(start, types: ["live.paused"], limit: 100);
        Assert.Equal([live[1].Id], paused.Items.Select(e => e.Id));
        var after = await client.ListEventsAsync(paused.NextCursor, types: ["live.paused"]);
        Assert.Empty(after.Items);
        Assert.Equal(paused.NextCursor, after.NextCursor);

        var invalid = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.ListEventsAsync("not-a-cursor"));
        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (invalid.Status, invalid.Code));
        Assert.Contains("after", invalid.Errors.Keys);
    }

    [Fact]
    public async Task ListingsExposeTheirCursorAndTheAsyncSequenceFollowsIt()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-pages");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var lives = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            lives.Add((await client.GoLiveAsync(roomId, new GoLiveRequest(Title: $"take {i}"))).Live.LiveId);
        }

        lives.Reverse(); // newest first
        var first = await client.ListRoomLivesAsync(roomId, limit: 2);
        Assert.Equal(lives[..2], first.Items.Select(l => l.LiveId));
        Assert.NotNull(first.NextCursor);
        var second = await client.ListRoomLivesAsync(roomId, limit: 2, cursor: first.NextCursor);
        Assert.Equal(lives[2..], second.Items.Select(l => l.LiveId));
        Assert.Null(second.NextCursor);

        var walked = await LiveGrainsClient.EnumerateAsync((cursor, ct) => client.ListRoomLivesAsync(roomId, limit: 1, cursor: cursor, cancellationToken: ct)).ToListAsync();
        Assert.Equal(lives, walked.Select(l => l.LiveId));

        // The tenant-wide listing is an index that follows within seconds. (The fake clock gives the three lives one
        // created_at, so their order among themselves is the index's tie-break: compare them as a set.)
        await Eventually.TrueAsync(
            async () => (await client.ListAllLivesAsync(new LiveQuery(RoomId: roomId, Limit: 1)).Select(l => l.LiveId).ToListAsync()) is { Count: 3 } all
                && all.ToHashSet().SetEquals(lives),
            Deadline,
            "the room's three lives, one page each");
        var ended = await Eventually.ValueAsync(
            async () => await client.ListAllLivesAsync(new LiveQuery(Status: ["ended"], RoomId: roomId)).ToListAsync(),
            e => e.Count == 2,
            Deadline,
            "the two superseded lives under status=ended");
        Assert.All(ended, l => Assert.Equal("superseded", l.EndReason));

        var invalid = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.ListRoomsAsync(limit: 0));
        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (invalid.Status, invalid.Code));
        Assert.Contains("limit", invalid.Errors.Keys);
    }

    private static async Task<HttpStatusCode> HookAsync(HttpClient hooks, string call, string key, string? path)
    {
        var fields = new Dictionary<string, string> { ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = "7" };
        if (path is not null)
        {
            fields["path"] = path;
        }

        using var content = new FormUrlEncodedContent(fields);
        using var response = await hooks.PostAsync($"/v1/ingest-hooks/nginx-rtmp?secret={HookSecret}", content);
        return response.StatusCode;
    }
}

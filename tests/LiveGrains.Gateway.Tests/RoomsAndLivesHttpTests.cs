using System.Net;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class RoomsAndLivesHttpTests(GatewayFactory factory)
{
    private static readonly string[] RoomFields =
    [
        "room_id", "title", "host_id", "takeover_policy", "reconnect_window_seconds", "active_live_id", "created_at", "updated_at",
        "description", "metadata", "visibility", "created_by", "preset_id", "co_host_ids",
    ];

    private static readonly string[] LiveFields =
    [
        "live_id", "room_id", "title", "status", "end_reason", "created_at", "scheduled_start_time", "ready_at", "started_at",
        "paused_at", "ended_at", "duration_seconds", "started_by", "ended_by", "stats",
        "description", "metadata", "visibility", "created_by", "updated_at", "ready_by", "paused_by", "resumed_by",
        "preset_id", "chat_enabled_override", "max_join_limit_override", "recording_enabled",
        "effective_chat_enabled", "effective_max_join_limit", "effective_recording_enabled",
        "host", "mode", "watch_url", "playback", "ingest_url", "stream_ids",
    ];

    private static readonly string[] StatsFields =
        ["viewer_count", "peak_viewer_count", "peak_at", "unique_viewer_count", "view_count", "like_count", "chat_message_count", "duration_seconds"];

    [Fact]
    public async Task CreatingARoomReturnsTheFullSnakeCaseRoomWithALocation()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = HttpTestKit.NewRoomId();

        using var response = await client.PostAsync("/v1/rooms",
            $$"""{"room_id":"{{roomId}}","title":"Morning","host_id":"host-1","takeover_policy":"reject","reconnect_window_seconds":120}""");

        var room = await response.OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/v1/rooms/{roomId}", response.Headers.Location?.OriginalString);
        AssertExactFields(room, RoomFields);
        Assert.Equal(roomId, room.GetProperty("room_id").GetString());
        Assert.Equal("Morning", room.GetProperty("title").GetString());
        Assert.Equal("host-1", room.GetProperty("host_id").GetString());
        Assert.Equal("reject", room.GetProperty("takeover_policy").GetString());
        Assert.Equal(120, room.GetProperty("reconnect_window_seconds").GetInt32());
        Assert.Equal(JsonValueKind.Null, room.GetProperty("active_live_id").ValueKind);
        AssertRfc3339Utc(room.GetProperty("created_at"));
        AssertRfc3339Utc(room.GetProperty("updated_at"));

        var read = await (await client.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        Assert.Equal(room.ToString(), read.ToString());
    }

    [Fact]
    public async Task ARoomWithoutFieldsGetsAGeneratedIdAndTheDefaults()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);

        using var response = await client.PostAsync("/v1/rooms", "{}");

        var room = await response.OkJsonAsync(HttpStatusCode.Created);
        var roomId = room.GetProperty("room_id").GetString()!;
        Assert.Matches("^[A-Za-z0-9_.-]{1,64}$", roomId);
        Assert.Equal("takeover", room.GetProperty("takeover_policy").GetString());
        Assert.Equal(60, room.GetProperty("reconnect_window_seconds").GetInt32());
        Assert.Equal(JsonValueKind.Null, room.GetProperty("title").ValueKind);
        Assert.Equal($"/v1/rooms/{roomId}", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task PatchChangesTheRoomAndAnswersTheWholeRoom()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();

        using var response = await client.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"title":"Evening","takeover_policy":"reject"}""");

        var room = await response.OkJsonAsync();
        AssertExactFields(room, RoomFields);
        Assert.Equal("Evening", room.GetProperty("title").GetString());
        Assert.Equal("reject", room.GetProperty("takeover_policy").GetString());
        Assert.Equal(60, room.GetProperty("reconnect_window_seconds").GetInt32());
    }

    [Fact]
    public async Task GoLiveAnswersTheFullLiveAndTheClosedLiveWithALocation()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();
        var first = await client.GoLiveAsync(roomId, "alice");
        Assert.Equal(JsonValueKind.Null, first.GetProperty("closed_live").ValueKind);

        using var response = await client.PostAsync($"/v1/rooms/{roomId}/go-live", """{"title":"Second","started_by":"bob"}""");

        var result = await response.OkJsonAsync(HttpStatusCode.Created);
        AssertExactFields(result, ["live", "closed_live"]);
        var live = result.GetProperty("live");
        var closed = result.GetProperty("closed_live");
        AssertExactFields(live, LiveFields);
        AssertExactFields(closed, LiveFields);
        Assert.Equal(0, live.GetProperty("stream_ids").GetArrayLength()); // no ingest stream fed it
        AssertExactFields(live.GetProperty("stats"), StatsFields);
        var liveId = live.GetProperty("live_id").GetString();
        Assert.Equal($"/v1/lives/{liveId}", response.Headers.Location?.OriginalString);
        Assert.Equal(roomId, live.GetProperty("room_id").GetString());
        Assert.Equal("live", live.GetProperty("status").GetString());
        Assert.Equal("bob", live.GetProperty("started_by").GetString());
        Assert.Equal(JsonValueKind.Null, live.GetProperty("end_reason").ValueKind);
        Assert.Equal(JsonValueKind.Null, live.GetProperty("ended_at").ValueKind);
        AssertRfc3339Utc(live.GetProperty("started_at"));
        Assert.Equal(first.GetProperty("live").GetProperty("live_id").GetString(), closed.GetProperty("live_id").GetString());
        Assert.Equal("ended", closed.GetProperty("status").GetString());
        Assert.Equal("superseded", closed.GetProperty("end_reason").GetString());
        AssertRfc3339Utc(closed.GetProperty("ended_at"));

        var room = await (await client.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        Assert.Equal(liveId, room.GetProperty("active_live_id").GetString());
        var read = await (await client.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        AssertExactFields(read, LiveFields);
        Assert.Equal("live", read.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AScheduledLiveWalksTheWholeLifecycleOverHttp()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();

        using var scheduledResponse = await client.PostAsync($"/v1/rooms/{roomId}/lives", """{"title":"Planned","scheduled_start_time":"2030-05-01T10:00:00+02:00"}""");
        var scheduled = await scheduledResponse.OkJsonAsync(HttpStatusCode.Created);
        var liveId = scheduled.GetProperty("live_id").GetString();
        Assert.Equal($"/v1/lives/{liveId}", scheduledResponse.Headers.Location?.OriginalString);
        Assert.Equal("scheduled", scheduled.GetProperty("status").GetString());
        Assert.Equal("2030-05-01T08:00:00.000Z", scheduled.GetProperty("scheduled_start_time").GetString());

        Assert.Equal("ready", (await (await client.PostAsync($"/v1/lives/{liveId}/ready", "{}")).OkJsonAsync()).GetProperty("status").GetString());
        var started = await (await client.PostAsync($"/v1/lives/{liveId}/start", """{"by":"carol"}""")).OkJsonAsync();
        Assert.Equal("live", started.GetProperty("status").GetString());
        Assert.Equal("carol", started.GetProperty("started_by").GetString());
        Assert.Equal("paused", (await (await client.PostAsync($"/v1/lives/{liveId}/pause")).OkJsonAsync()).GetProperty("status").GetString());
        Assert.Equal("live", (await (await client.PostAsync($"/v1/lives/{liveId}/resume", "{}")).OkJsonAsync()).GetProperty("status").GetString());
        var ended = await (await client.PostAsync($"/v1/lives/{liveId}/end", """{"by":"dave"}""")).OkJsonAsync();
        Assert.Equal("ended", ended.GetProperty("status").GetString());
        Assert.Equal("ended", ended.GetProperty("end_reason").GetString());
        Assert.Equal("dave", ended.GetProperty("ended_by").GetString());

        var room = await (await client.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, room.GetProperty("active_live_id").ValueKind);
    }

    [Fact]
    public async Task TheHistoryPagesNewestFirstWithNextCursor()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!);
        }

        var seen = new List<string>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var url = $"/v1/rooms/{roomId}/lives?limit=2" + (cursor is null ? string.Empty : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await (await client.GetAsync(url)).OkJsonAsync();
            AssertExactFields(page, ["items", "next_cursor"]);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("live_id").GetString()!));
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);
        await (await client.GetAsync($"/v1/rooms/{roomId}/lives?cursor=garbage")).ValidationProblemAsync("cursor");
    }

    [Fact]
    public async Task AnotherTenantGetsNotFoundForEveryRoomAndLiveOperationNeverForbidden()
    {
        using var acme = factory.CreateClient(GatewayFactory.AcmeKey);
        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        var roomId = await acme.CreateRoomAsync();
        var liveId = (await acme.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString();

        var attempts = new (HttpMethod Method, string Url, string? Body)[]
        {
            (HttpMethod.Get, $"/v1/rooms/{roomId}", null),
            (HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"title":"mine now"}"""),
            (HttpMethod.Get, $"/v1/rooms/{roomId}/lives", null),
            (HttpMethod.Post, $"/v1/rooms/{roomId}/go-live", "{}"),
            (HttpMethod.Post, $"/v1/rooms/{roomId}/lives", "{}"),
            (HttpMethod.Get, $"/v1/lives/{liveId}", null),
            (HttpMethod.Post, $"/v1/lives/{liveId}/pause", "{}"),
            (HttpMethod.Post, $"/v1/lives/{liveId}/end", "{}"),
            (HttpMethod.Post, $"/v1/lives/{liveId}/start", "{}"),
        };
        foreach (var (method, url, body) in attempts)
        {
            using var response = await globex.SendAsync(method, url, body);
            await response.ProblemAsync(HttpStatusCode.NotFound, "not_found");
        }

        // Nothing changed for the owner.
        var room = await (await acme.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        Assert.Equal(liveId, room.GetProperty("active_live_id").GetString());
        Assert.Equal(JsonValueKind.Null, room.GetProperty("title").ValueKind);
        Assert.Equal("live", (await (await acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync()).GetProperty("status").GetString());
        Assert.Single((await (await acme.GetAsync($"/v1/rooms/{roomId}/lives")).OkJsonAsync()).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task TwoTenantsMayUseTheSameRoomIdIndependently()
    {
        using var acme = factory.CreateClient(GatewayFactory.AcmeKey);
        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        var roomId = HttpTestKit.NewRoomId();

        await (await acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","title":"acme"}""")).OkJsonAsync(HttpStatusCode.Created);
        await (await globex.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","title":"globex"}""")).OkJsonAsync(HttpStatusCode.Created);

        Assert.Equal("acme", (await (await acme.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync()).GetProperty("title").GetString());
        Assert.Equal("globex", (await (await globex.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync()).GetProperty("title").GetString());
    }

    private static void AssertExactFields(JsonElement element, string[] fields)
    {
        Assert.Equal(JsonValueKind.Object, element.ValueKind);
        Assert.Equal(fields.Order(StringComparer.Ordinal), element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    private static void AssertRfc3339Utc(JsonElement value) =>
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$", value.GetString());
}

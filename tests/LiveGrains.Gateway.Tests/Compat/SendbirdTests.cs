using System.Net;
using System.Text.Json;
using LiveGrains.Gateway.Tests.Access;

namespace LiveGrains.Gateway.Tests.Compat;

/// <summary>Sendbird Live's live-event API (seed 003), sent as Sendbird's clients send it, against the real pipeline.</summary>
[Collection(CompatCollection.Name)]
public sealed class SendbirdTests(CompatGatewayFactory factory)
{
    /// <summary>The seed's response example as JSON: its <c>none</c> is null, its comments and trailing commas dropped.</summary>
    private const string DocumentedResponse = """
        {
            "live_event": {
                "live_event_id": "5ae1fdb3-1f86-4bd5-8b0a-1a0d472ef262",
                "host_type": "single_host",
                "state": "ongoing",
                "created_at": 1657689806089,
                "set_ready_at": 1657689806115,
                "started_at": 1657689806237,
                "ended_at": null,
                "is_host_streaming": false,
                "host": {
                    "client_id": "test-client-id",
                    "duration": 0,
                    "exited_at": null,
                    "entered_at": 1657689806172,
                    "state": "entered",
                    "live_event_id": "5ae1fdb3-1f86-4bd5-8b0a-1a0d472ef262",
                    "host_id": "5eaae39f-d5b1-4b52-93a5-ea81d9338f37",
                    "connected_at": null,
                    "disconnected_at": null,
                    "is_audio_on": true,
                    "is_video_on": true,
                    "user": {
                        "user_id": "testuser-d8208e98",
                        "nickname": "",
                        "profile_url": "",
                        "metadata": {},
                        "is_active": true,
                        "role": null
                    }
                },
                "created_by": "testuser-d8208e98",
                "set_ready_by": "testuser-d8208e98",
                "started_by": "testuser-d8208e98",
                "ended_by": "",
                "duration": 0,
                "participant_count": 0,
                "peak_participant_count": 0,
                "cumulative_participant_count": 0,
                "user_ids_for_host": ["testuser-d8208e98"],
                "custom_items": {}
            }
        }
        """;

    private readonly HttpClient _v1 = factory.V1();
    private readonly HttpClient _client = factory.Raw();

    private static (string, string) Token(string token = GatewayFactory.AcmeKey) => ("Api-Token", token);

    private async Task<JsonElement> CreateAsync(string host = "testuser-d8208e98", string? extra = null)
    {
        var body = $$"""{"user_ids_for_host":["{{host}}"],"title":"Launch","custom_items":{"Tier":"gold"},"cover_url":"https://x/y.png"{{extra}}}""";
        return (await (await _client.SendAsync(HttpMethod.Post, "/compat/sendbird/v1/live-events", Token(), body)).JsonAsync(HttpStatusCode.OK)).GetProperty("live_event");
    }

    private async Task<JsonElement> StepAsync(string liveEventId, string step, string? token = null, string? body = null) =>
        (await (await _client.SendAsync(HttpMethod.Post, $"/compat/sendbird/v1/live-events/{liveEventId}/{step}", Token(token ?? GatewayFactory.AcmeKey), body))
            .JsonAsync(HttpStatusCode.OK)).GetProperty("live_event");

    [Fact]
    public async Task TheDocumentedStartAnswersEveryDocumentedFieldWithEpochMillisecondsAndWhoDidEachStep()
    {
        var created = await CreateAsync();
        var id = created.GetProperty("live_event_id").GetString()!;
        Assert.Equal("created", created.GetProperty("state").GetString());
        Assert.Equal("gold", created.GetProperty("custom_items").GetProperty("Tier").GetString());

        var ready = await StepAsync(id, "set-ready", body: """{"user_id":"testuser-d8208e98"}""");
        Assert.Equal("ready", ready.GetProperty("state").GetString());

        // POST https://api-{application_id}.calls.sendbird.com/v1/live-events/{live_event_id}/start, no body.
        var response = await (await _client.SendAsync(HttpMethod.Post, $"/compat/sendbird/v1/live-events/{id}/start", Token())).JsonAsync(HttpStatusCode.OK);

        CompatTestKit.AssertShape(DocumentedResponse, response);
        var started = response.GetProperty("live_event");
        Assert.Equal("ongoing", started.GetProperty("state").GetString());
        Assert.Equal("single_host", started.GetProperty("host_type").GetString());
        Assert.Equal(["testuser-d8208e98"], started.GetProperty("user_ids_for_host").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("testuser-d8208e98", started.GetProperty("host").GetProperty("user").GetProperty("user_id").GetString());
        Assert.Equal("testuser-d8208e98", started.GetProperty("created_by").GetString());
        Assert.Equal("testuser-d8208e98", started.GetProperty("set_ready_by").GetString());
        Assert.Equal("", started.GetProperty("started_by").GetString());
        Assert.Equal("", started.GetProperty("ended_by").GetString());
        Assert.Equal(JsonValueKind.Null, started.GetProperty("ended_at").ValueKind);

        var v1 = await _v1.V1LiveAsync(id);
        Assert.Equal(v1.GetProperty("created_at").GetDateTimeOffset().ToUnixTimeMilliseconds(), started.GetProperty("created_at").GetInt64());
        Assert.Equal(v1.GetProperty("ready_at").GetDateTimeOffset().ToUnixTimeMilliseconds(), started.GetProperty("set_ready_at").GetInt64());
        Assert.Equal(v1.GetProperty("started_at").GetDateTimeOffset().ToUnixTimeMilliseconds(), started.GetProperty("started_at").GetInt64());
        Assert.Equal("live", v1.GetProperty("status").GetString());
        Assert.Equal("Launch", v1.GetProperty("title").GetString());

        var ended = await StepAsync(id, "end", body: """{"user_id":"testuser-d8208e98","reason":"done"}""");
        Assert.Equal("ended", ended.GetProperty("state").GetString());
        Assert.Equal("testuser-d8208e98", ended.GetProperty("ended_by").GetString());
        Assert.Equal(v1.GetProperty("started_at").GetDateTimeOffset().ToUnixTimeMilliseconds(), ended.GetProperty("started_at").GetInt64());
        Assert.True(ended.GetProperty("ended_at").GetInt64() >= ended.GetProperty("started_at").GetInt64());
        Assert.Equal(JsonValueKind.Number, ended.GetProperty("duration").ValueKind);
    }

    [Fact]
    public async Task ParticipantCountsAreTheLivesViewerStatistics()
    {
        var id = (await CreateAsync()).GetProperty("live_event_id").GetString()!;
        await StepAsync(id, "start");
        Assert.Equal(HttpStatusCode.Accepted, (await _v1.PostAsync($"/v1/lives/{id}/activity", """{"joins":["a","b","c"],"leaves":["c"]}""")).StatusCode);

        await CompatTestKit.WaitForAsync(async () =>
        {
            var e = (await (await _client.SendAsync(HttpMethod.Get, $"/compat/sendbird/v1/live-events/{id}", Token())).JsonAsync(HttpStatusCode.OK)).GetProperty("live_event");
            return e.GetProperty("participant_count").GetInt64() == 2 && e.GetProperty("cumulative_participant_count").GetInt64() == 3
                && e.GetProperty("peak_participant_count").GetInt64() >= 2;
        }, "Sendbird's counts follow the live's statistics");
    }

    [Fact]
    public async Task ALiveStartedThroughPrismIsOngoingThroughSendbirdAndLiveThroughV1()
    {
        var (roomId, liveId) = await _v1.ScheduleAsync(hostId: "alice");
        await (await _client.SendAsync(HttpMethod.Put, $"/compat/prism/prism/v1/service/live/{liveId}/start", ("x-prism-access-token", GatewayFactory.AcmeKey)))
            .JsonAsync(HttpStatusCode.OK);

        var v1 = await _v1.V1LiveAsync(liveId);
        var sendbird = (await (await _client.SendAsync(HttpMethod.Get, $"/compat/sendbird/v1/live-events/{liveId}", Token())).JsonAsync(HttpStatusCode.OK))
            .GetProperty("live_event");
        Assert.Equal("live", v1.GetProperty("status").GetString());
        Assert.Equal("ongoing", sendbird.GetProperty("state").GetString());
        Assert.Equal(v1.GetProperty("started_at").GetDateTimeOffset().ToUnixTimeMilliseconds(), sendbird.GetProperty("started_at").GetInt64());
        Assert.Equal(["alice"], sendbird.GetProperty("user_ids_for_host").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(liveId, (await (await _v1.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync()).GetProperty("active_live_id").GetString());
    }

    [Fact]
    public async Task AHostTokenRecordsItsUserAsWhoStartedAndOtherUsersAreRefused()
    {
        var key = await _v1.CreateKeyAsync("write");
        var roomId = HttpTestKit.NewRoomId();
        var id = (await CreateAsync("alice", $$""","room_id":"{{roomId}}" """)).GetProperty("live_event_id").GetString()!;
        Assert.Equal(roomId, (await _v1.V1LiveAsync(id)).GetProperty("room_id").GetString());

        var bob = await (await _client.SendAsync(HttpMethod.Post, $"/compat/sendbird/v1/live-events/{id}/start", Token(key.Token("bob", new { room = roomId, host = true }))))
            .JsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal(400108, bob.GetProperty("code").GetInt32());

        var started = await StepAsync(id, "start", key.Token("alice", new { room = roomId, host = true }));
        Assert.Equal("alice", started.GetProperty("started_by").GetString());
    }

    [Fact]
    public async Task EveryUserForHostMayRunTheEventAndOthersMayNot()
    {
        var key = await _v1.CreateKeyAsync("write");
        var roomId = HttpTestKit.NewRoomId();
        var created = (await (await _client.SendAsync(HttpMethod.Post, "/compat/sendbird/v1/live-events", Token(),
            $$"""{"user_ids_for_host":["alice","carol"],"room_id":"{{roomId}}"}""")).JsonAsync(HttpStatusCode.OK)).GetProperty("live_event");
        var id = created.GetProperty("live_event_id").GetString()!;
        Assert.Equal(["alice", "carol"], created.GetProperty("user_ids_for_host").EnumerateArray().Select(e => e.GetString()));
        var room = await (await _v1.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        Assert.Equal("alice", room.GetProperty("host_id").GetString());
        Assert.Equal(["carol"], room.GetProperty("co_host_ids").EnumerateArray().Select(e => e.GetString()));

        var bob = await (await _client.SendAsync(HttpMethod.Post, $"/compat/sendbird/v1/live-events/{id}/start", Token(key.Token("bob", new { room = roomId, host = true }))))
            .JsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal(400108, bob.GetProperty("code").GetInt32());
        var started = await StepAsync(id, "start", key.Token("carol", new { room = roomId, host = true }));
        Assert.Equal("carol", started.GetProperty("started_by").GetString());
    }

    [Fact]
    public async Task ErrorsComeInSendbirdsShapeAndOtherTenantsEventsDoNotExist()
    {
        var id = (await CreateAsync()).GetProperty("live_event_id").GetString()!;

        async Task Error(HttpResponseMessage response, HttpStatusCode status, int code)
        {
            var body = await response.JsonAsync(status);
            Assert.Equal(["code", "error", "message"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.True(body.GetProperty("error").GetBoolean());
            Assert.Equal(code, body.GetProperty("code").GetInt32());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        }

        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/sendbird/v1/live-events/{id}", null), HttpStatusCode.Unauthorized, 400401);
        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/sendbird/v1/live-events/{id}", Token("wrong")), HttpStatusCode.Unauthorized, 400401);
        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/sendbird/v1/live-events/{id}", Token(GatewayFactory.GlobexKey)), HttpStatusCode.NotFound, 400201);
        await Error(await _client.SendAsync(HttpMethod.Post, $"/compat/sendbird/v1/live-events/{id}/start", Token(GatewayFactory.GlobexKey)), HttpStatusCode.NotFound, 400201);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/sendbird/v1/live-events", Token(), """{"user_ids_for_host":"alice"}"""), HttpStatusCode.BadRequest, 400111);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/sendbird/v1/live-events", Token(), """{"user_ids_for_host":["a","a"]}"""), HttpStatusCode.BadRequest, 400111);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/sendbird/v1/live-events", Token(), """{"user_ids_for_host":[]}"""), HttpStatusCode.BadRequest, 400111);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/sendbird/v1/live-events", Token(), """{"custom_items":{"a":1}}"""), HttpStatusCode.BadRequest, 400111);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/sendbird/v1/live-events", Token(), "not json"), HttpStatusCode.BadRequest, 400111);

        await StepAsync(id, "end");
        await Error(await _client.SendAsync(HttpMethod.Post, $"/compat/sendbird/v1/live-events/{id}/start", Token()), HttpStatusCode.Conflict, 400920);
        Assert.Equal("cancelled", (await _v1.V1LiveAsync(id)).GetProperty("end_reason").GetString());
    }
}

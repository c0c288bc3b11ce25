using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LiveGrains.Gateway.Tests.Access;

namespace LiveGrains.Gateway.Tests.Compat;

/// <summary>The LiveKit-based platform's session API (seed 001), sent as its clients send it, against the real pipeline.</summary>
[Collection(CompatCollection.Name)]
public sealed class LiveKitPlatformTests(CompatGatewayFactory factory)
{
    /// <summary>The seed's go_live response example, verbatim.</summary>
    private const string DocumentedResponse = """
        {
        "success": true,
        "data": {
        "session": {
        "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "room_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "room": {
        "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "host_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "host": {
        "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "external_user_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "organization_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "email": "jsmith@example.com",
        "username": "<string>",
        "role": "host",
        "is_active": true,
        "created_at": "2023-11-07T05:31:56Z"
        },
        "library_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "title": "<string>",
        "description": "<string>",
        "analytics": {
        "google_tag_manager": {
        "container_id": "GTM-XXXXXX",
        "enabled": true
        }
        },
        "active_session_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "created_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z"
        },
        "preset": {
        "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "user_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "library_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "name": "<string>",
        "type": "whip",
        "stage_enabled": true,
        "max_join_limit": 123,
        "chat_enabled": true,
        "poll_enabled": true,
        "viewer_count_visible": true,
        "primary_color": "<string>",
        "logo": "<string>",
        "logo_destination_url": "<string>",
        "host_add_co_host": true,
        "host_camera_enabled": true,
        "host_screen_share": true,
        "host_chat_send_text": true,
        "host_chat_send_file": true,
        "host_chat_receive_message": true,
        "host_poll_create": true,
        "host_poll_vote": true,
        "host_poll_view": true,
        "onstage_camera_enabled": true,
        "onstage_screen_share": true,
        "onstage_viewer_view": true,
        "audience_stage_join_request": true,
        "audience_can_see_participants": true,
        "audience_chat_send_text": true,
        "audience_chat_send_file": true,
        "audience_chat_receive_message": true,
        "audience_poll_create": true,
        "audience_poll_vote": true,
        "audience_poll_view": true,
        "moderator_manage_stage": true,
        "moderator_manage_chat": true,
        "moderator_manage_poll": true,
        "recording_enabled": true,
        "is_default": true,
        "created_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z"
        },
        "title": "<string>",
        "description": "<string>",
        "status": "scheduled",
        "mode": "webcam",
        "started_at": "2023-11-07T05:31:56Z",
        "ended_at": "2023-11-07T05:31:56Z",
        "duration": 123,
        "scheduled_start_time": "2023-11-07T05:31:56Z",
        "viewer_count": 123,
        "max_viewers": 123,
        "recording_enabled": true,
        "hls_url": "<string>",
        "chat_enabled_override": true,
        "stage_enabled_override": true,
        "max_join_limit_override": 123,
        "effective_chat_enabled": true,
        "effective_stage_enabled": true,
        "effective_max_join_limit": 123,
        "created_at": "2023-11-07T05:31:56Z",
        "updated_at": "2023-11-07T05:31:56Z"
        },
        "livekit_token": "<string>",
        "rtmp": {
        "ingress_id": "<string>",
        "url": "<string>",
        "stream_key": "<string>"
        },
        "rtmp_setup": {
        "server": "<string>",
        "stream_key": "<string>",
        "instructions": {
        "step1": "<string>",
        "step2": "<string>",
        "step3": "<string>"
        }
        },
        "whip_url": "<string>"
        },
        "timestamp": 123
        }
        """;

    private readonly HttpClient _v1 = factory.V1();
    private readonly HttpClient _client = factory.Raw();

    private static (string, string) Bearer(string token = GatewayFactory.AcmeKey) => ("Authorization", "Bearer " + token);

    private static string GoLive(string sessionId) => $"/compat/livekit-platform/sessions/{sessionId}/go_live";

    [Fact]
    public async Task TheDocumentedGoLiveAnswersEveryDocumentedFieldWithARealLiveKitToken()
    {
        var (roomId, sessionId) = await _v1.ScheduleAsync(hostId: "alice", title: "Studio");
        var stream = await (await _v1.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        var streamId = stream.GetProperty("stream_id").GetString()!;
        await CompatTestKit.WaitForAsync(
            async () => (await (await _v1.GetAsync($"/v1/rooms/{roomId}/streams")).OkJsonAsync()).GetProperty("items").GetArrayLength() == 1,
            "the room's stream is listed");

        // curl --request POST --url https://api.example.com/sessions/{id}/go_live --header 'Authorization: Bearer <token>'
        var body = await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer())).JsonAsync(HttpStatusCode.OK);

        CompatTestKit.AssertShape(DocumentedResponse, body);
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.InRange(body.GetProperty("timestamp").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());
        var data = body.GetProperty("data");
        var session = data.GetProperty("session");
        Assert.Equal(sessionId, session.GetProperty("id").GetString());
        Assert.Equal("live", session.GetProperty("status").GetString());
        Assert.Equal("rtmp", session.GetProperty("mode").GetString());
        Assert.Equal(roomId, session.GetProperty("room_id").GetString());
        Assert.Equal(sessionId, session.GetProperty("room").GetProperty("active_session_id").GetString());
        Assert.Equal("alice", session.GetProperty("room").GetProperty("host_id").GetString());
        Assert.Equal("host", session.GetProperty("room").GetProperty("host").GetProperty("role").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", session.GetProperty("started_at").GetString()!);
        Assert.True(session.GetProperty("preset").GetProperty("is_default").GetBoolean());
        Assert.Equal(streamId, data.GetProperty("rtmp").GetProperty("ingress_id").GetString());
        Assert.Equal("rtmp://ingest.example.com:1935/live", data.GetProperty("rtmp").GetProperty("url").GetString());
        Assert.Equal("rtmp://ingest.example.com:1935/live", data.GetProperty("rtmp_setup").GetProperty("server").GetString());
        Assert.Equal($"https://whip.example.com/live/{streamId}/whip", data.GetProperty("whip_url").GetString());

        var token = data.GetProperty("livekit_token").GetString()!;
        var claims = VerifiedClaims(token, CompatGatewayFactory.LiveKitApiSecret);
        Assert.Equal(CompatGatewayFactory.LiveKitApiKey, claims.GetProperty("iss").GetString());
        Assert.Equal("alice", claims.GetProperty("sub").GetString());
        Assert.True(claims.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var video = claims.GetProperty("video");
        Assert.Equal(roomId, video.GetProperty("room").GetString());
        Assert.True(video.GetProperty("roomJoin").GetBoolean());
        Assert.True(video.GetProperty("canPublish").GetBoolean());
        Assert.Throws<CryptographicException>(() => VerifiedClaims(token, "another-secret-of-the-same-kind!!"));

        Assert.Equal("live", (await _v1.V1LiveAsync(sessionId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task GoLiveIsHostOnlyForTokensAndAlwaysAllowedForApiKeys()
    {
        var key = await _v1.CreateKeyAsync("write");
        var (roomId, sessionId) = await _v1.ScheduleAsync(hostId: "alice");

        var viewer = await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer(key.Token("alice", new { room = roomId, viewer = true }))))
            .JsonAsync(HttpStatusCode.Forbidden);
        AssertError(viewer, "forbidden");
        var bob = await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer(key.Token("bob", new { room = roomId, host = true }))))
            .JsonAsync(HttpStatusCode.Forbidden);
        AssertError(bob, "forbidden");
        Assert.Equal("scheduled", (await _v1.V1LiveAsync(sessionId)).GetProperty("status").GetString());

        var alice = await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer(key.Token("alice", new { room = roomId, host = true }))))
            .JsonAsync(HttpStatusCode.OK);
        Assert.Equal("live", alice.GetProperty("data").GetProperty("session").GetProperty("status").GetString());
        Assert.Equal("alice", (await _v1.V1LiveAsync(sessionId)).GetProperty("started_by").GetString());

        // No stream in the room yet: no ingest to offer.
        Assert.Equal(JsonValueKind.Null, alice.GetProperty("data").GetProperty("rtmp").ValueKind);

        var (_, other) = await _v1.ScheduleAsync(hostId: "alice");
        await (await _client.SendAsync(HttpMethod.Post, GoLive(other), Bearer(key.Secret))).JsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GoLiveTakesACoHostsTokenToo()
    {
        var key = await _v1.CreateKeyAsync("write");
        var (roomId, sessionId) = await _v1.ScheduleAsync(hostId: "alice");
        await (await _v1.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"co_host_ids":["carol"]}""")).OkJsonAsync();

        var bob = await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer(key.Token("bob", new { room = roomId, host = true }))))
            .JsonAsync(HttpStatusCode.Forbidden);
        AssertError(bob, "forbidden");
        var carol = await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer(key.Token("carol", new { room = roomId, host = true }))))
            .JsonAsync(HttpStatusCode.OK);
        Assert.Equal("live", carol.GetProperty("data").GetProperty("session").GetProperty("status").GetString());
        Assert.Equal("carol", (await _v1.V1LiveAsync(sessionId)).GetProperty("started_by").GetString());
    }

    [Fact]
    public async Task SessionsAndRoomsReadTheSameLiveAsV1AndPrism()
    {
        var (roomId, sessionId) = await _v1.ScheduleAsync(title: "Room title");
        var scheduled = (await (await _client.SendAsync(HttpMethod.Get, $"/compat/livekit-platform/sessions/{sessionId}", Bearer())).JsonAsync(HttpStatusCode.OK))
            .GetProperty("data");
        Assert.Equal("scheduled", scheduled.GetProperty("status").GetString());
        CompatTestKit.AssertShape(JsonDocument.Parse(DocumentedResponse).RootElement.GetProperty("data").GetProperty("session"), scheduled, "$.data");

        await (await _client.SendAsync(HttpMethod.Put, $"/compat/prism/prism/v1/service/live/{sessionId}/start", ("x-prism-access-token", GatewayFactory.AcmeKey)))
            .JsonAsync(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Accepted, (await _v1.PostAsync($"/v1/lives/{sessionId}/viewers/v-9/join")).StatusCode);

        await CompatTestKit.WaitForAsync(async () =>
        {
            var session = (await (await _client.SendAsync(HttpMethod.Get, $"/compat/livekit-platform/sessions/{sessionId}", Bearer())).JsonAsync(HttpStatusCode.OK))
                .GetProperty("data");
            return session.GetProperty("status").GetString() == "live" && session.GetProperty("viewer_count").GetInt64() == 1
                && session.GetProperty("max_viewers").GetInt64() == 1;
        }, "the session shows PRISM's start and /v1's viewer");

        var room = (await (await _client.SendAsync(HttpMethod.Get, $"/compat/livekit-platform/rooms/{roomId}", Bearer())).JsonAsync(HttpStatusCode.OK)).GetProperty("data");
        CompatTestKit.AssertShape(JsonDocument.Parse(DocumentedResponse).RootElement.GetProperty("data").GetProperty("session").GetProperty("room"), room, "$.data");
        Assert.Equal(sessionId, room.GetProperty("active_session_id").GetString());
        Assert.Equal("Room title", room.GetProperty("title").GetString());

        await (await _v1.PostAsync($"/v1/lives/{sessionId}/end", "{}")).OkJsonAsync();
        var ended = (await (await _client.SendAsync(HttpMethod.Get, $"/compat/livekit-platform/rooms/{roomId}", Bearer())).JsonAsync(HttpStatusCode.OK)).GetProperty("data");
        Assert.Equal(JsonValueKind.Null, ended.GetProperty("active_session_id").ValueKind);
    }

    [Fact]
    public async Task ErrorsAreSuccessFalseEnvelopes()
    {
        var (roomId, sessionId) = await _v1.ScheduleAsync();

        AssertError(await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), null)).JsonAsync(HttpStatusCode.Unauthorized), "unauthorized");
        AssertError(await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer("nope"))).JsonAsync(HttpStatusCode.Unauthorized), "unauthorized");
        AssertError(await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer(GatewayFactory.GlobexKey))).JsonAsync(HttpStatusCode.NotFound), "not_found");
        AssertError(await (await _client.SendAsync(HttpMethod.Get, $"/compat/livekit-platform/rooms/{roomId}", Bearer(GatewayFactory.GlobexKey))).JsonAsync(HttpStatusCode.NotFound), "not_found");
        AssertError(await (await _client.SendAsync(HttpMethod.Get, "/compat/livekit-platform/sessions/3c90c3cc-0d44-4b50-8888-8dd25736052a", Bearer())).JsonAsync(HttpStatusCode.NotFound), "not_found");

        await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer())).JsonAsync(HttpStatusCode.OK);
        AssertError(await (await _client.SendAsync(HttpMethod.Post, GoLive(sessionId), Bearer())).JsonAsync(HttpStatusCode.Conflict), "invalid_transition");
    }

    private static void AssertError(JsonElement body, string code)
    {
        Assert.Equal(["error", "success", "timestamp"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(code, body.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.Number, body.GetProperty("timestamp").ValueKind);
    }

    /// <summary>Checks the HS256 signature as a LiveKit server does, then answers the claims.</summary>
    private static JsonElement VerifiedClaims(string jwt, string secret)
    {
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        var header = JsonDocument.Parse(Decode(parts[0])).RootElement;
        Assert.Equal("HS256", header.GetProperty("alg").GetString());
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(expected, Decode(parts[2])))
        {
            throw new CryptographicException("bad signature");
        }

        return JsonDocument.Parse(Decode(parts[1])).RootElement.Clone();
    }

    private static byte[] Decode(string part)
    {
        var base64 = part.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }
}

using System.Net;
using System.Text.Json;
using LiveGrains.Gateway.Tests.Access;

namespace LiveGrains.Gateway.Tests.Compat;

/// <summary>NAVER PRISM Live Studio's start API (seed 002), sent as PRISM's clients send it, against the real pipeline.</summary>
[Collection(CompatCollection.Name)]
public sealed class PrismTests(CompatGatewayFactory factory)
{
    /// <summary>
    /// The seed's response example. Its liveId example is a number while its field table says "liveId String": LiveGrains
    /// live ids are strings, so the table is followed.
    /// </summary>
    private const string DocumentedResponse = """
        {
            "success": true,
            "errorCode": 0,
            "errorName": null,
            "message": null,
            "data": {
                "liveId": "57082",
                "title": "This is the live title.",
                "description": "This is a description of the live.",
                "reservedAt": "2023-12-13T02:00:00+09:00",
                "startAt": "2023-12-29T23:59:00+09:00",
                "rtmpPath": "rtmp://global.rtmp.lip2.navercorp.com:8080/relay/scr14opcsi1tgvvxl4av1a1x3i3u6dha",
                "status": "ON_AIR",
                "liveLink": "https://example.com/1391275",
                "scope": "PUBLIC",
                "liveStat": {
                    "viewCount": null,
                    "viewerCount": null,
                    "likeCount": null,
                    "chatCount": null
                }
            }
        }
        """;

    private static readonly string[] ErrorFields = ["data", "errorCode", "errorName", "message", "success"];

    private readonly HttpClient _v1 = factory.V1();
    private readonly HttpClient _client = factory.Raw();

    private static (string, string) Token(string token = GatewayFactory.AcmeKey) => ("x-prism-access-token", token);

    private static string Start(string liveId) => $"/compat/prism/prism/v1/service/live/{liveId}/start";

    [Fact]
    public async Task TheDocumentedStartRequestAnswersEveryDocumentedFieldInPrismsEnvelope()
    {
        var (roomId, liveId) = await _v1.ScheduleAsync(title: "Channel name");

        // curl -X PUT /prism/v1/service/live/{liveId}/start -H "x-prism-access-token: {access-token}"
        var body = await (await _client.SendAsync(HttpMethod.Put, Start(liveId), Token())).JsonAsync(HttpStatusCode.OK);

        CompatTestKit.AssertShape(DocumentedResponse, body);
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.Equal(0, body.GetProperty("errorCode").GetInt32());
        var data = body.GetProperty("data");
        Assert.Equal(liveId, data.GetProperty("liveId").GetString());
        Assert.Equal("ON_AIR", data.GetProperty("status").GetString());
        Assert.Equal("Channel name", data.GetProperty("title").GetString());
        Assert.Equal("PUBLIC", data.GetProperty("scope").GetString());
        Assert.StartsWith("rtmp://", data.GetProperty("rtmpPath").GetString(), StringComparison.Ordinal);
        Assert.Equal($"https://watch.example.com/{roomId}/{liveId}", data.GetProperty("liveLink").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", data.GetProperty("reservedAt").GetString()!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", data.GetProperty("startAt").GetString()!);
        foreach (var stat in data.GetProperty("liveStat").EnumerateObject())
        {
            Assert.Equal(JsonValueKind.Number, stat.Value.ValueKind);
        }

        var v1 = await _v1.V1LiveAsync(liveId);
        Assert.Equal("live", v1.GetProperty("status").GetString());
        Assert.Equal(v1.GetProperty("started_at").GetDateTimeOffset().ToUnixTimeSeconds(),
            DateTimeOffset.Parse(data.GetProperty("startAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task StartClosesTheLiveOnAirOnTheSameChannelForciblyEvenInARejectingRoom()
    {
        foreach (var policy in new[] { "takeover", "reject" })
        {
            var (roomId, next) = await _v1.ScheduleAsync(policy: policy);
            var onAir = (await _v1.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;

            var started = await (await _client.SendAsync(HttpMethod.Put, Start(next), Token())).JsonAsync(HttpStatusCode.OK);

            Assert.Equal("ON_AIR", started.GetProperty("data").GetProperty("status").GetString());
            var closed = await _v1.V1LiveAsync(onAir);
            Assert.Equal("ended", closed.GetProperty("status").GetString());
            Assert.Equal("superseded", closed.GetProperty("end_reason").GetString());
            var room = await (await _v1.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
            Assert.Equal(next, room.GetProperty("active_live_id").GetString());
        }
    }

    [Fact]
    public async Task StatusGoesReservedOnAirEndWithLiveStatsAsV1CountsThem()
    {
        var (_, liveId) = await _v1.ScheduleAsync();
        var url = $"/compat/prism/prism/v1/service/live/{liveId}";

        var reserved = (await (await _client.SendAsync(HttpMethod.Get, url, Token())).JsonAsync(HttpStatusCode.OK)).GetProperty("data");
        Assert.Equal("RESERVED", reserved.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, reserved.GetProperty("startAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, reserved.GetProperty("liveStat").GetProperty("viewerCount").ValueKind);

        await (await _client.SendAsync(HttpMethod.Put, Start(liveId), Token())).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Accepted, (await _v1.PostAsync($"/v1/lives/{liveId}/viewers/v-1/join")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await _v1.PostAsync($"/v1/lives/{liveId}/likes", """{"count":3}""")).StatusCode);
        await CompatTestKit.WaitForAsync(async () =>
        {
            var stat = (await (await _client.SendAsync(HttpMethod.Get, url, Token())).JsonAsync(HttpStatusCode.OK)).GetProperty("data").GetProperty("liveStat");
            return stat.GetProperty("viewerCount").GetInt64() == 1 && stat.GetProperty("viewCount").GetInt64() == 1 && stat.GetProperty("likeCount").GetInt64() == 3;
        }, "PRISM's liveStat shows the viewer and likes counted through /v1");

        var ended = (await (await _client.SendAsync(HttpMethod.Put, url + "/end", Token())).JsonAsync(HttpStatusCode.OK)).GetProperty("data");
        Assert.Equal("END", ended.GetProperty("status").GetString());
        Assert.Equal(1, ended.GetProperty("liveStat").GetProperty("viewCount").GetInt64());
        Assert.Equal("ended", (await _v1.V1LiveAsync(liveId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ARepeatedStartAnswersTheLiveOnAirAndChangesNothing()
    {
        var (_, liveId) = await _v1.ScheduleAsync();
        var first = (await (await _client.SendAsync(HttpMethod.Put, Start(liveId), Token())).JsonAsync(HttpStatusCode.OK)).GetProperty("data");
        var again = (await (await _client.SendAsync(HttpMethod.Put, Start(liveId), Token())).JsonAsync(HttpStatusCode.OK)).GetProperty("data");
        Assert.Equal(first.GetProperty("startAt").GetString(), again.GetProperty("startAt").GetString());
        Assert.Equal("ON_AIR", again.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ErrorsAndRefusalsComeInPrismsShape()
    {
        var (_, liveId) = await _v1.ScheduleAsync();

        async Task<JsonElement> Error(HttpResponseMessage response, HttpStatusCode status, string name)
        {
            var body = await response.JsonAsync(status);
            Assert.Equal(ErrorFields, body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.False(body.GetProperty("success").GetBoolean());
            Assert.Equal((int)status, body.GetProperty("errorCode").GetInt32());
            Assert.Equal(name, body.GetProperty("errorName").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
            Assert.Equal(JsonValueKind.Null, body.GetProperty("data").ValueKind);
            return body;
        }

        await Error(await _client.SendAsync(HttpMethod.Put, Start(liveId), null), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start(liveId), Token("not-a-key")), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start(liveId), ("Authorization", "Bearer " + GatewayFactory.AcmeKey)), HttpStatusCode.Unauthorized, "UNAUTHORIZED");

        // Another tenant's live does not exist for it.
        await Error(await _client.SendAsync(HttpMethod.Put, Start(liveId), Token(GatewayFactory.GlobexKey)), HttpStatusCode.NotFound, "NOT_FOUND");
        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/prism/prism/v1/service/live/{liveId}", Token(GatewayFactory.GlobexKey)), HttpStatusCode.NotFound, "NOT_FOUND");
        await Error(await _client.SendAsync(HttpMethod.Put, Start("57082"), Token()), HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.Equal("scheduled", (await _v1.V1LiveAsync(liveId)).GetProperty("status").GetString());

        await (await _client.SendAsync(HttpMethod.Put, $"/compat/prism/prism/v1/service/live/{liveId}/end", Token())).JsonAsync(HttpStatusCode.OK);
        await Error(await _client.SendAsync(HttpMethod.Put, $"/compat/prism/prism/v1/service/live/{liveId}/end", Token()), HttpStatusCode.Conflict, "INVALID_TRANSITION");
    }

    [Fact]
    public async Task AHostTokenInThePrismHeaderRunsOnlyItsHostsLivesAndIsAudited()
    {
        var key = await _v1.CreateKeyAsync("write");
        var (roomId, liveId) = await _v1.ScheduleAsync(hostId: "alice");
        var alice = key.Token("alice", new { room = roomId, host = true });
        var bob = key.Token("bob", new { room = roomId, host = true });

        var refused = await (await _client.SendAsync(HttpMethod.Put, Start(liveId), Token(bob))).JsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal("FORBIDDEN", refused.GetProperty("errorName").GetString());
        Assert.False(refused.GetProperty("success").GetBoolean());

        await (await _client.SendAsync(HttpMethod.Put, Start(liveId), Token(alice))).JsonAsync(HttpStatusCode.OK);
        Assert.Equal("alice", (await _v1.V1LiveAsync(liveId)).GetProperty("started_by").GetString());

        var audit = await Testing.Eventually.ValueAsync(
            async () => (await (await _v1.GetAsync($"/v1/audit?resource={liveId}")).OkJsonAsync()).GetProperty("items").EnumerateArray()
                .Where(e => e.GetProperty("action").GetString()!.StartsWith("prism_", StringComparison.Ordinal)).ToList(),
            items => items.Count == 2, TimeSpan.FromSeconds(10), "two audit entries");
        Assert.Equal(["prism_start_live", "prism_start_live"], audit.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal(["denied", "success"], audit.Select(e => e.GetProperty("outcome").GetString()));
    }
}

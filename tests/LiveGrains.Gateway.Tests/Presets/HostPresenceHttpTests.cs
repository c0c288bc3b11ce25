using System.Net;
using System.Text.Json;
using LiveGrains.Gateway.Tests.Access;

namespace LiveGrains.Gateway.Tests.Presets;

/// <summary>The host's presence, the live's mode and its links (api.md "More on rooms and lives").</summary>
[Collection(GatewayCollection.Name)]
public sealed class HostPresenceHttpTests(GatewayFactory factory)
{
    private const string Secret = "test-hook-secret";
    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);
    private readonly HttpClient _hooks = factory.CreateClient();

    [Fact]
    public async Task TheHostEntersAndExitsALiveAndARepeatChangesNothing()
    {
        var roomId = await _acme.CreateRoomAsync();
        var live = (await _acme.GoLiveAsync(roomId)).GetProperty("live");
        var liveId = live.GetProperty("live_id").GetString()!;
        var host = live.GetProperty("host");
        Assert.Equal(JsonValueKind.Null, host.GetProperty("state").ValueKind);
        Assert.Equal(JsonValueKind.Null, host.GetProperty("entered_at").ValueKind);
        Assert.False(host.GetProperty("is_streaming").GetBoolean());

        var entered = (await (await _acme.PostAsync($"/v1/lives/{liveId}/host/enter", """{"by":"alice"}""")).OkJsonAsync()).GetProperty("host");
        Assert.Equal("entered", entered.GetProperty("state").GetString());
        var enteredAt = entered.GetProperty("entered_at").GetDateTimeOffset();
        Assert.Equal(JsonValueKind.Null, entered.GetProperty("exited_at").ValueKind);
        Assert.Equal("alice", entered.GetProperty("by").GetString());

        var again = (await (await _acme.PostAsync($"/v1/lives/{liveId}/host/enter", null)).OkJsonAsync()).GetProperty("host");
        Assert.Equal(enteredAt, again.GetProperty("entered_at").GetDateTimeOffset());

        var exited = (await (await _acme.PostAsync($"/v1/lives/{liveId}/host/exit", "{}")).OkJsonAsync()).GetProperty("host");
        Assert.Equal("exited", exited.GetProperty("state").GetString());
        Assert.Equal(enteredAt, exited.GetProperty("entered_at").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.String, exited.GetProperty("exited_at").ValueKind);
        var read = await (await _acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal("exited", read.GetProperty("host").GetProperty("state").GetString());

        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.PostAsync($"/v1/lives/{liveId}/host/enter", null)).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await _acme.PostAsync($"/v1/lives/{liveId}/host/enter", """{"by":""" + "\"" + new string('x', 200) + "\"}")).ValidationProblemAsync("by");

        await (await _acme.PostAsync($"/v1/lives/{liveId}/end", null)).OkJsonAsync();
        await (await _acme.PostAsync($"/v1/lives/{liveId}/host/enter", null)).ProblemAsync(HttpStatusCode.Conflict, "live_ended");
    }

    [Fact]
    public async Task OnlyTheRoomsHostTokenMayEnterOrExit()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = HttpTestKit.NewRoomId();
        await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","host_id":"alice"}""")).OkJsonAsync(HttpStatusCode.Created);
        var liveId = (await _acme.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        using var alice = factory.Client(key.Token("alice", new { room = roomId, host = true }));
        using var bob = factory.Client(key.Token("bob", new { room = roomId, host = true }));
        using var viewer = factory.Client(key.Token("alice", new { live = liveId, viewer = true }));

        await (await bob.PostAsync($"/v1/lives/{liveId}/host/enter", null)).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.PostAsync($"/v1/lives/{liveId}/host/enter", null)).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var entered = (await (await alice.PostAsync($"/v1/lives/{liveId}/host/enter", null)).OkJsonAsync()).GetProperty("host");
        Assert.Equal("entered", entered.GetProperty("state").GetString());
        Assert.Equal("alice", entered.GetProperty("by").GetString());
    }

    [Fact]
    public async Task TheModeDecidesTheIngestUrlAndTheLiveCarriesItsWatchUrlAndTitle()
    {
        var roomId = HttpTestKit.NewRoomId();
        await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","title":"Channel"}""")).OkJsonAsync(HttpStatusCode.Created);
        var live = (await _acme.GoLiveAsync(roomId)).GetProperty("live");
        var liveId = live.GetProperty("live_id").GetString()!;
        Assert.Equal("rtmp", live.GetProperty("mode").GetString());
        Assert.Equal("rtmp://localhost:1935/live", live.GetProperty("ingest_url").GetString());
        Assert.Equal($"https://watch.example.com/{roomId}/{liveId}", live.GetProperty("watch_url").GetString());
        Assert.Equal("Channel", live.GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Null, live.GetProperty("playback").ValueKind);

        var whip = await (await _acme.PostAsync($"/v1/rooms/{roomId}/lives", """{"mode":"whip"}""")).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("whip", whip.GetProperty("mode").GetString());
        Assert.Equal("http://localhost:8889/live", whip.GetProperty("ingest_url").GetString());
        var webcam = await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/lives/{whip.GetProperty("live_id").GetString()}", """{"mode":"webcam"}""")).OkJsonAsync();
        Assert.Equal("webcam", webcam.GetProperty("mode").GetString());

        await (await _acme.PostAsync($"/v1/rooms/{roomId}/go-live", """{"mode":"carrier-pigeon"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task IsStreamingAndPlaybackFollowTheLivesStream()
    {
        var roomId = await _acme.CreateRoomAsync();
        var stream = await (await _acme.PostJsonAsync("/v1/streams", new { room_id = roomId, reconnect_window_seconds = 30 })).JsonAsync();
        var streamId = stream.GetProperty("stream_id").GetString()!;
        var key = stream.GetProperty("stream_key").GetString()!;

        Assert.Equal(HttpStatusCode.OK, (await NginxAsync("publish", key)).StatusCode);
        var liveId = (await (await _acme.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync()).GetProperty("active_live_id").GetString()!;
        var live = await (await _acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.True(live.GetProperty("host").GetProperty("is_streaming").GetBoolean());
        Assert.Equal($"http://localhost:8888/live/{streamId}/index.m3u8", live.GetProperty("playback").GetProperty("hls_url").GetString());

        Assert.Equal(HttpStatusCode.OK, (await NginxAsync("publish_done", key)).StatusCode);
        live = await (await _acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal("paused", live.GetProperty("status").GetString());
        Assert.False(live.GetProperty("host").GetProperty("is_streaming").GetBoolean());
        Assert.Equal($"http://localhost:8888/live/{streamId}/index.m3u8", live.GetProperty("playback").GetProperty("hls_url").GetString());

        Assert.Equal(HttpStatusCode.OK, (await NginxAsync("publish", key)).StatusCode);
        live = await (await _acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal("live", live.GetProperty("status").GetString());
        Assert.True(live.GetProperty("host").GetProperty("is_streaming").GetBoolean());
    }

    private Task<HttpResponseMessage> NginxAsync(string call, string key) =>
        _hooks.PostAsync("/v1/ingest-hooks/nginx-rtmp?secret=" + Secret, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = "7",
            ["tcurl"] = "rtmp://127.0.0.1:1935/live", ["flashver"] = "FMLE/3.0", ["type"] = "live",
        }));
}

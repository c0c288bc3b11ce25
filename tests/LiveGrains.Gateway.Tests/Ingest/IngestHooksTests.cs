using System.Net;
using System.Text;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests.Ingest;

[Collection(GatewayCollection.Name)]
public sealed class IngestHooksTests(GatewayFactory factory)
{
    private const string Secret = "test-hook-secret";
    private readonly HttpClient _api = factory.CreateClient(GatewayFactory.AcmeKey);
    private readonly HttpClient _hooks = factory.CreateClient();

    [Fact]
    public async Task CreatingAStreamShowsItsKeyAndUrlsOnceAndReadingItNeverDoes()
    {
        var roomId = await CreateRoomAsync();

        using var created = await _api.PostJsonAsync("/v1/streams", new { room_id = roomId, reconnect_window_seconds = 5, recording = "auto" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var stream = await created.JsonAsync();
        var streamId = stream.GetProperty("stream_id").GetString()!;
        var key = stream.GetProperty("stream_key").GetString()!;
        Assert.StartsWith(streamId + ".", key, StringComparison.Ordinal);
        Assert.Equal($"/v1/streams/{streamId}", created.Headers.Location?.OriginalString);
        Assert.Equal(roomId, stream.GetProperty("room_id").GetString());
        Assert.True(stream.GetProperty("enabled").GetBoolean());
        Assert.Equal("idle", stream.GetProperty("status").GetString());
        Assert.Equal("auto", stream.GetProperty("recording").GetString());
        Assert.False(stream.GetProperty("recording_active").GetBoolean());
        Assert.Equal("rtmp://localhost:1935/live", stream.GetProperty("rtmp_url").GetString());
        Assert.Equal($"http://localhost:8889/live/{streamId}/whip", stream.GetProperty("whip_url").GetString());
        Assert.Contains(key, stream.GetProperty("srt_url").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, stream.GetProperty("connected_at").ValueKind);

        var read = await (await _api.GetAsync($"/v1/streams/{streamId}")).JsonAsync();
        Assert.Equal(JsonValueKind.Null, read.GetProperty("stream_key").ValueKind);
        Assert.DoesNotContain(key, read.ToString(), StringComparison.Ordinal);

        using var other = await factory.CreateClient(GatewayFactory.GlobexKey).GetAsync($"/v1/streams/{streamId}");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task AStreamNeedsAnExistingRoomAndValidFields()
    {
        using var missing = await _api.PostJsonAsync("/v1/streams", new { room_id = Http.Unique("nowhere") });
        using var badRecording = await _api.PostJsonAsync("/v1/streams", new { room_id = "r", recording = "sometimes" });
        using var badWindow = await _api.PostJsonAsync("/v1/streams", new { room_id = "r", reconnect_window_seconds = -1 });
        using var anonymous = await _hooks.PostAsync("/v1/streams", JsonContent(new { room_id = "r" }));

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("validation_failed", (await missing.JsonAsync()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, badRecording.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badWindow.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task NginxRtmpPublishGoesLiveAndPublishDonePausesIt()
    {
        var (roomId, streamId, key) = await CreateStreamAsync();

        using var publish = await NginxAsync("publish", key, "7");

        Assert.Equal(HttpStatusCode.OK, publish.StatusCode);
        var stream = await GetStreamAsync(streamId);
        Assert.Equal("connected", stream.GetProperty("status").GetString());
        var liveId = stream.GetProperty("live_id").GetString()!;
        var room = await (await _api.GetAsync($"/v1/rooms/{roomId}")).JsonAsync();
        Assert.Equal(liveId, room.GetProperty("active_live_id").GetString());
        Assert.Equal("live", await LiveStatusAsync(liveId));

        using var update = await NginxAsync("update_publish", key, "7");
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);

        using var done = await NginxAsync("publish_done", key, "7");
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("reconnecting", (await GetStreamAsync(streamId)).GetProperty("status").GetString());
        Assert.Equal("paused", await LiveStatusAsync(liveId));

        using var again = await NginxAsync("publish", key, "8");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(liveId, (await GetStreamAsync(streamId)).GetProperty("live_id").GetString());
        Assert.Equal("live", await LiveStatusAsync(liveId));
    }

    [Fact]
    public async Task NginxRtmpRefusesWrongKeysSecretsAndRotatedOrDisabledKeys()
    {
        var (_, streamId, key) = await CreateStreamAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await NginxAsync("publish", key, "1", secret: "wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await NginxAsync("publish", key, "1", secret: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await NginxAsync("publish", streamId + ".deadbeef", "1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await NginxAsync("publish", "not-a-key", "1")).StatusCode);
        Assert.Equal("idle", (await GetStreamAsync(streamId)).GetProperty("status").GetString());

        // The secret may come as a header instead of the query.
        using var viaHeader = new HttpRequestMessage(HttpMethod.Post, "/v1/ingest-hooks/nginx-rtmp") { Content = Form("publish", key, "1") };
        viaHeader.Headers.Add("X-LiveGrains-Hook-Secret", Secret);
        Assert.Equal(HttpStatusCode.OK, (await _hooks.SendAsync(viaHeader)).StatusCode);

        using var rotate = await _api.PostAsync($"/v1/streams/{streamId}/rotate-key", null);
        var newKey = (await rotate.JsonAsync()).GetProperty("stream_key").GetString()!;
        Assert.NotEqual(key, newKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await NginxAsync("update_publish", key, "1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await NginxAsync("publish", key, "2")).StatusCode);

        using var disable = await _api.PostAsync($"/v1/streams/{streamId}/disable", null);
        var disabled = await disable.JsonAsync();
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.Equal("idle", disabled.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await NginxAsync("publish", newKey, "3")).StatusCode);

        Assert.True((await (await _api.PostAsync($"/v1/streams/{streamId}/enable", null)).JsonAsync()).GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await NginxAsync("publish", newKey, "3")).StatusCode);
    }

    [Fact]
    public async Task SrsOnPublishIsAnsweredZeroAndARefusalIsNot()
    {
        var (_, streamId, key) = await CreateStreamAsync();

        using var publish = await SrsAsync("on_publish", key);
        Assert.Equal(HttpStatusCode.OK, publish.StatusCode);
        Assert.Equal("0", await publish.Content.ReadAsStringAsync());
        Assert.Equal("connected", (await GetStreamAsync(streamId)).GetProperty("status").GetString());

        using var unpublish = await SrsAsync("on_unpublish", key);
        Assert.Equal("0", await unpublish.Content.ReadAsStringAsync());
        Assert.Equal("reconnecting", (await GetStreamAsync(streamId)).GetProperty("status").GetString());

        using var wrong = await SrsAsync("on_publish", streamId + ".00");
        Assert.NotEqual("0", await wrong.Content.ReadAsStringAsync());
        using var badSecret = await SrsAsync("on_publish", key, secret: "nope");
        Assert.NotEqual(HttpStatusCode.OK, badSecret.StatusCode);

        using var play = await SrsAsync("on_play", key);
        Assert.Equal("0", await play.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MediaMtxPublishAuthAcceptsTheKeyInThePathOrAsAWhipBearerToken()
    {
        var (_, streamId, key) = await CreateStreamAsync();

        using var rtmp = await MediaMtxAsync(new { user = "", password = "", token = "", ip = "127.0.0.1", action = "publish", path = $"live/{key}", protocol = "rtmp", id = "c1", query = "" });
        Assert.True(rtmp.IsSuccessStatusCode, await rtmp.Content.ReadAsStringAsync());
        Assert.Equal("connected", (await GetStreamAsync(streamId)).GetProperty("status").GetString());

        var (_, whipStreamId, whipKey) = await CreateStreamAsync();
        using var whip = await MediaMtxAsync(new { user = "", password = "", token = whipKey, ip = "127.0.0.1", action = "publish", path = $"live/{whipStreamId}", protocol = "webrtc", id = "c2", query = "" });
        Assert.True(whip.IsSuccessStatusCode);

        using var wrong = await MediaMtxAsync(new { user = "", password = "", token = "", ip = "127.0.0.1", action = "publish", path = $"live/{streamId}.00", protocol = "srt", id = "c3", query = "" });
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);

        using var read = await MediaMtxAsync(new { user = "", password = "", token = "", ip = "127.0.0.1", action = "read", path = $"live/{streamId}", protocol = "hls", id = "c4", query = "" });
        Assert.True(read.IsSuccessStatusCode);
        using var api = await MediaMtxAsync(new { user = "", password = "", token = "", ip = "127.0.0.1", action = "api", path = "", protocol = "", id = "", query = "" });
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);

        using var noSecret = await _hooks.PostAsync("/v1/ingest-hooks/mediamtx", JsonContent(new { action = "publish", path = $"live/{key}" }));
        Assert.Equal(HttpStatusCode.Forbidden, noSecret.StatusCode);
    }

    [Fact]
    public async Task RecordingStartsAndStopsOnAConnectedStream()
    {
        var (_, streamId, key) = await CreateStreamAsync();
        using var early = await _api.PostAsync($"/v1/streams/{streamId}/recording/start", null);
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);

        await NginxAsync("publish", key, "1");
        var started = await (await _api.PostAsync($"/v1/streams/{streamId}/recording/start", null)).JsonAsync();
        Assert.True(started.GetProperty("recording_active").GetBoolean());
        var stopped = await (await _api.PostAsync($"/v1/streams/{streamId}/recording/stop", null)).JsonAsync();
        Assert.False(stopped.GetProperty("recording_active").GetBoolean());
        var session = Assert.Single(stopped.GetProperty("recording_sessions").EnumerateArray());
        Assert.NotEqual(JsonValueKind.Null, session.GetProperty("stopped_at").ValueKind);
        Assert.Equal("manual", session.GetProperty("trigger").GetString());
    }

    private async Task<string> CreateRoomAsync()
    {
        var roomId = Http.Unique("room");
        using var room = await _api.PostJsonAsync("/v1/rooms", new { room_id = roomId });
        Assert.Equal(HttpStatusCode.Created, room.StatusCode);
        return roomId;
    }

    private async Task<(string RoomId, string StreamId, string Key)> CreateStreamAsync()
    {
        var roomId = await CreateRoomAsync();
        using var created = await _api.PostJsonAsync("/v1/streams", new { room_id = roomId });
        var stream = await created.JsonAsync();
        return (roomId, stream.GetProperty("stream_id").GetString()!, stream.GetProperty("stream_key").GetString()!);
    }

    private async Task<JsonElement> GetStreamAsync(string streamId) => await (await _api.GetAsync($"/v1/streams/{streamId}")).JsonAsync();

    private async Task<string?> LiveStatusAsync(string liveId) =>
        (await (await _api.GetAsync($"/v1/lives/{liveId}")).JsonAsync()).GetProperty("status").GetString();

    private static FormUrlEncodedContent Form(string call, string key, string clientId) => new(new Dictionary<string, string>
    {
        ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = clientId,
        ["tcurl"] = "rtmp://127.0.0.1:1935/live", ["flashver"] = "FMLE/3.0", ["type"] = "live",
    });

    private Task<HttpResponseMessage> NginxAsync(string call, string key, string clientId, string? secret = Secret) =>
        _hooks.PostAsync("/v1/ingest-hooks/nginx-rtmp" + (secret is null ? string.Empty : "?secret=" + secret), Form(call, key, clientId));

    private Task<HttpResponseMessage> SrsAsync(string action, string key, string secret = Secret) =>
        _hooks.PostAsync($"/v1/ingest-hooks/srs?secret={secret}", JsonContent(new Dictionary<string, object>
        {
            ["server_id"] = "vid-0xk989d", ["service_id"] = "plw1ab1d", ["action"] = action, ["client_id"] = "341w361a",
            ["ip"] = "127.0.0.1", ["vhost"] = "__defaultVhost__", ["app"] = "live", ["tcUrl"] = "rtmp://127.0.0.1:1935/live",
            ["stream"] = key, ["param"] = "", ["stream_url"] = "/live/" + key, ["stream_id"] = "vid-124q9y3",
        }));

    private Task<HttpResponseMessage> MediaMtxAsync(object body) =>
        _hooks.PostAsync($"/v1/ingest-hooks/mediamtx?secret={Secret}", JsonContent(body));

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}

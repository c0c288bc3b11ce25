using System.Net;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests.Compat;

/// <summary>
/// Gcore Streaming's tutorial (seed 004) through its API calls, sent as its clients send them, against the real pipeline;
/// the encoder is played by nginx-rtmp's publish callbacks. The Gcore-shaped webhooks are GcoreWebhooksTests; the run
/// with a real nginx-rtmp and ffmpeg is GcoreTutorialEndToEndTests (integration).
/// </summary>
[Collection(CompatCollection.Name)]
public sealed class GcoreTests(CompatGatewayFactory factory)
{
    private readonly HttpClient _client = factory.Raw();
    private readonly HttpClient _hooks = factory.Raw();

    private static (string, string) ApiKey(string key = GatewayFactory.AcmeKey) => ("Authorization", "APIKey " + key);

    private async Task<JsonElement> CallAsync(HttpMethod method, string path, string? body = null, HttpStatusCode expected = HttpStatusCode.OK, string key = GatewayFactory.AcmeKey) =>
        await (await _client.SendAsync(method, "/compat/gcore/streaming" + path, ApiKey(key), body)).JsonAsync(expected);

    private async Task<(long StreamId, string Key)> Step1CreateStreamAsync()
    {
        var stream = await CallAsync(HttpMethod.Post, "/streams", """
            {
                "stream": {
                    "name": "test_stream",
                    "pull": false,
                    "uri": null,
                    "active": false,
                    "transcoding_region": "ix1",
                    "auto_record": false,
                    "webrtc": false,
                    "dvr_enabled": false,
                    "cdn_id": 53949,
                    "projection": "regular"
                }
            }
            """, HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Number, stream.GetProperty("id").ValueKind);
        Assert.False(stream.GetProperty("active").GetBoolean());
        Assert.False(stream.GetProperty("live").GetBoolean());
        Assert.False(stream.GetProperty("recording").GetBoolean());
        var push = stream.GetProperty("push_url").GetString()!;
        Assert.StartsWith("rtmp://ingest.example.com:1935/live/", push, StringComparison.Ordinal);
        return (stream.GetProperty("id").GetInt64(), push[(push.LastIndexOf('/') + 1)..]);
    }

    private Task<HttpResponseMessage> PublishAsync(string call, string key) =>
        _hooks.PostAsync("/v1/ingest-hooks/nginx-rtmp?secret=test-hook-secret", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = "7",
            ["tcurl"] = "rtmp://127.0.0.1:1935/live", ["flashver"] = "FMLE/3.0", ["type"] = "live",
        }));

    [Fact]
    public async Task TheTutorialsApiStepsRunInOrderWithIntegerIdsAndGcoresStatusWords()
    {
        var (streamId, key) = await Step1CreateStreamAsync();

        // Step 2.
        var broadcast = await CallAsync(HttpMethod.Post, "/broadcasts", $$"""
            {
                "broadcast": {
                    "name": "test_broadcast",
                    "status": "pending",
                    "share_url": "",
                    "custom_iframe_url": "",
                    "show_dvr_after_finish": false,
                    "pending_message": "Please wait ...",
                    "ad_id": null,
                    "stream_ids": [{{streamId}}]
                }
            }
            """, HttpStatusCode.Created);
        var broadcastId = broadcast.GetProperty("id").GetInt64();
        Assert.Equal("pending", broadcast.GetProperty("status").GetString());
        Assert.Equal([streamId], broadcast.GetProperty("stream_ids").EnumerateArray().Select(e => e.GetInt64()));

        // An inactive stream refuses the encoder; step 3 activates it.
        Assert.False((await PublishAsync("publish", key)).IsSuccessStatusCode);
        var active = await CallAsync(HttpMethod.Patch, $"/streams/{streamId}", """{"stream": {"active": true}}""");
        Assert.Equal(streamId, active.GetProperty("id").GetInt64());
        Assert.True(active.GetProperty("active").GetBoolean());

        // Step 4: the encoder publishes; the stream is live.
        Assert.True((await PublishAsync("publish", key)).IsSuccessStatusCode);
        Assert.True((await CallAsync(HttpMethod.Get, $"/streams/{streamId}")).GetProperty("live").GetBoolean());

        // Step 5.
        var live = await CallAsync(HttpMethod.Patch, $"/broadcasts/{broadcastId}", """{"broadcast": {"status": "live"}}""");
        Assert.Equal(broadcastId, live.GetProperty("id").GetInt64());
        Assert.Equal("live", live.GetProperty("status").GetString());

        // Step 7: 204, and the stream says recording.
        var recording = await _client.SendAsync(HttpMethod.Put, $"/compat/gcore/streaming/streams/{streamId}/start_recording", ApiKey());
        Assert.Equal(HttpStatusCode.NoContent, recording.StatusCode);
        var stream = await CallAsync(HttpMethod.Get, $"/streams/{streamId}");
        Assert.True(stream.GetProperty("recording").GetBoolean());
        Assert.True(stream.GetProperty("live").GetBoolean());

        // Step 9: the recorded video.
        var video = await CallAsync(HttpMethod.Put, $"/streams/{streamId}/stop_recording");
        Assert.Equal(JsonValueKind.Number, video.GetProperty("id").ValueKind);
        Assert.StartsWith("Stream Record: test_stream, ", video.GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", video.GetProperty("recording_started_at").GetString()!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", video.GetProperty("created_at").GetString()!);
        Assert.False((await CallAsync(HttpMethod.Get, $"/streams/{streamId}")).GetProperty("recording").GetBoolean());

        // Step 12.
        Assert.Equal("finished", (await CallAsync(HttpMethod.Patch, $"/broadcasts/{broadcastId}", """{"broadcast": {"status": "finished"}}""")).GetProperty("status").GetString());

        // Step 14.
        var inactive = await CallAsync(HttpMethod.Patch, $"/streams/{streamId}", """{"stream": {"active": false}}""");
        Assert.False(inactive.GetProperty("active").GetBoolean());
        Assert.Equal(JsonValueKind.Array, inactive.GetProperty("transcoded_qualities").ValueKind);
        Assert.Equal(JsonValueKind.Array, inactive.GetProperty("rtmp_play_url").ValueKind);

        // Step 16.
        var deleted = await _client.SendAsync(HttpMethod.Delete, $"/compat/gcore/streaming/broadcasts/{broadcastId}", ApiKey());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await CallAsync(HttpMethod.Get, $"/broadcasts/{broadcastId}", expected: HttpStatusCode.NotFound);

        // Step 19.
        var info = await CallAsync(HttpMethod.Get, $"/videos/{video.GetProperty("id").GetInt64()}");
        Assert.Equal(video.GetProperty("id").GetInt64(), info.GetProperty("id").GetInt64());
        Assert.Equal(streamId, info.GetProperty("stream_id").GetInt64());
        Assert.Equal(video.GetProperty("name").GetString(), info.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Number, info.GetProperty("duration").ValueKind);
        Assert.Equal(video.GetProperty("recording_started_at").GetString(), info.GetProperty("recording_started_at").GetString());

        // Stream reuse: the same stream, updated, feeds the next broadcast.
        var reused = await CallAsync(HttpMethod.Patch, $"/streams/{streamId}", """{"stream": {"transcoding_region": "dt1"}}""");
        Assert.Equal(streamId, reused.GetProperty("id").GetInt64());
        Assert.False(reused.GetProperty("live").GetBoolean());
        Assert.False(reused.GetProperty("backup_live").GetBoolean());

        // ... and answers its push URL again, with a new key (only a hash of the old one is kept); the old key is refused.
        var push = reused.GetProperty("push_url").GetString()!;
        Assert.StartsWith("rtmp://ingest.example.com:1935/live/", push, StringComparison.Ordinal);
        Assert.NotEqual(key, push[(push.LastIndexOf('/') + 1)..]);
        Assert.Equal(JsonValueKind.Null, inactive.GetProperty("push_url").ValueKind);
        await CallAsync(HttpMethod.Patch, $"/streams/{streamId}", """{"stream": {"active": true}}""");
        Assert.False((await PublishAsync("publish", key)).IsSuccessStatusCode);
        var next = await CallAsync(HttpMethod.Post, "/broadcasts", $$$"""{"broadcast": {"name": "again", "stream_ids": [{{{streamId}}}]}}""", HttpStatusCode.Created);
        Assert.NotEqual(broadcastId, next.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task AnInterruptedBroadcastIsPausedAndResumes()
    {
        var (streamId, _) = await Step1CreateStreamAsync();
        var id = (await CallAsync(HttpMethod.Post, "/broadcasts", $$$"""{"broadcast": {"name": "b", "status": "pending", "stream_ids": [{{{streamId}}}]}}""", HttpStatusCode.Created))
            .GetProperty("id").GetInt64();
        await CallAsync(HttpMethod.Patch, $"/broadcasts/{id}", """{"broadcast": {"status": "live"}}""");

        Assert.Equal("paused", (await CallAsync(HttpMethod.Patch, $"/broadcasts/{id}", """{"broadcast": {"status": "paused"}}""")).GetProperty("status").GetString());
        Assert.Equal("paused", (await CallAsync(HttpMethod.Get, $"/broadcasts/{id}")).GetProperty("status").GetString());
        Assert.Equal("live", (await CallAsync(HttpMethod.Patch, $"/broadcasts/{id}", """{"broadcast": {"status": "live"}}""")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ErrorsComeInGcoresShapeAndIdsAreTheTenantsOwn()
    {
        var (streamId, _) = await Step1CreateStreamAsync();

        async Task Error(HttpResponseMessage response, HttpStatusCode status)
        {
            var body = await response.JsonAsync(status);
            Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
            Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        }

        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/gcore/streaming/streams/{streamId}", null), HttpStatusCode.Unauthorized);
        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/gcore/streaming/streams/{streamId}", ("Authorization", "Bearer " + GatewayFactory.AcmeKey)), HttpStatusCode.Unauthorized);
        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/gcore/streaming/streams/{streamId}", ApiKey("wrong")), HttpStatusCode.Unauthorized);
        await Error(await _client.SendAsync(HttpMethod.Get, $"/compat/gcore/streaming/streams/{streamId}", ApiKey(GatewayFactory.GlobexKey)), HttpStatusCode.NotFound);
        await Error(await _client.SendAsync(HttpMethod.Patch, $"/compat/gcore/streaming/streams/{streamId}", ApiKey(GatewayFactory.GlobexKey), """{"stream":{"active":true}}"""), HttpStatusCode.NotFound);
        await Error(await _client.SendAsync(HttpMethod.Get, "/compat/gcore/streaming/streams/abc", ApiKey()), HttpStatusCode.NotFound);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/gcore/streaming/streams", ApiKey(), """{"stream":{"active":false}}"""), HttpStatusCode.BadRequest);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/gcore/streaming/streams", ApiKey(), """{"stream":{"name":"x","active":"no"}}"""), HttpStatusCode.BadRequest);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/gcore/streaming/broadcasts", ApiKey(), """{"broadcast":{"name":"x","stream_ids":[1]}}"""), HttpStatusCode.BadRequest);
        await Error(await _client.SendAsync(HttpMethod.Post, "/compat/gcore/streaming/broadcasts", ApiKey(GatewayFactory.GlobexKey), $$$"""{"broadcast":{"name":"x","stream_ids":[{{{streamId}}}]}}"""), HttpStatusCode.BadRequest);
        await Error(await _client.SendAsync(HttpMethod.Put, $"/compat/gcore/streaming/streams/{streamId}/start_recording", ApiKey()), HttpStatusCode.Conflict);
        await Error(await _client.SendAsync(HttpMethod.Put, $"/compat/gcore/streaming/streams/{streamId}/stop_recording", ApiKey()), HttpStatusCode.Conflict);

        // Globex's first stream gets a number of its own counter; it never reaches acme's stream.
        var globex = await (await _client.SendAsync(HttpMethod.Post, "/compat/gcore/streaming/streams", ApiKey(GatewayFactory.GlobexKey), """{"stream":{"name":"g"}}"""))
            .JsonAsync(HttpStatusCode.Created);
        Assert.True(globex.GetProperty("active").GetBoolean());
        Assert.Equal("test_stream", (await CallAsync(HttpMethod.Get, $"/streams/{streamId}")).GetProperty("name").GetString());
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LiveGrains.Testing;
using LiveGrains.Webhooks.Testing;

namespace LiveGrains.Integration.Tests.Ingest;

/// <summary>
/// Gcore Streaming's tutorial (seed 004), steps 1-19 with its special cases (an interruption -> paused, stream reuse), as
/// one run of a Gcore client against the real gateway process, a real nginx-rtmp (publish callbacks, its control module
/// to cut an encoder, <c>record all</c> with <c>on_record_done</c>), real ffmpeg encoders publishing to the
/// <c>push_url</c> the API answered, real ffprobe, and a webhook receiver registered with <c>format: "gcore"</c>. Each
/// request is the seed's; each answer is checked by field name, type and value; the webhooks must arrive in order.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class GcoreTutorialEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly string _recordings = TestDirectories.Create("gcore-recordings");
    private readonly HttpClient _gcore = new() { Timeout = TimeSpan.FromSeconds(30) };
    private ServiceProcess _gateway = null!;
    private NginxRtmpServer _nginx = null!;
    private IngestApi _api = null!;
    private WebhookReceiver _receiver = null!;
    private readonly List<FfmpegPublisher> _encoders = [];
    private int _rtmpPort;

    public async Task InitializeAsync()
    {
        var controlPort = FreePort.Next();
        _rtmpPort = FreePort.Next();
        var (gateway, url, apiKey) = IngestApi.StartEmbeddedGateway(new Dictionary<string, string?>
        {
            ["Ingest__NginxRtmpControlUrl"] = NginxRtmpServer.ControlUrlFor(controlPort),
            ["Ingest__RtmpBaseUrl"] = $"rtmp://127.0.0.1:{_rtmpPort.ToString(CultureInfo.InvariantCulture)}/live",
            ["Webhooks__AllowPrivateNetworks"] = "true",
            ["Webhooks__InitialBackoffMilliseconds"] = "100",
            ["Webhooks__MaxBackoffMilliseconds"] = "1000",
        });
        _gateway = gateway;
        await _gateway.WaitForHttpAsync($"{url}/alive", IngestApi.StartTimeout);
        _api = new IngestApi(url, apiKey);
        _gcore.BaseAddress = new Uri(url + "/compat/gcore/streaming/");
        _gcore.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("APIKey", apiKey);
        _nginx = await NginxRtmpServer.StartAsync(_api.NginxHookUrl, new NginxRtmpOptions
        {
            RtmpPort = _rtmpPort,
            ControlPort = controlPort,
            NotifyUpdateTimeout = TimeSpan.FromSeconds(30),
            ExtraApplicationDirectives = $"record all; record_path {_recordings}; record_unique on; on_record_done \"{_api.NginxHookUrl}\";",
        });
        _receiver = new WebhookReceiver(FreePort.Next());
        await _receiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var encoder in _encoders)
        {
            await encoder.DisposeAsync();
        }

        _gcore.Dispose();
        _api?.Dispose();
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }

        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }

        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        TestDirectories.TryDelete(_recordings);
    }

    [Fact]
    public async Task TheTutorialsNineteenStepsWithAnInterruptionAndStreamReuseRunEndToEndWithGcoreWebhooksInOrder()
    {
        // The webhook endpoint, in Gcore's format (LiveGrains' own registration call).
        var hook = await _api.SendAsync(HttpMethod.Post, "/v1/webhooks", new { url = _receiver.Url, format = "gcore" });
        Assert.Equal("gcore", hook.GetProperty("format").GetString());
        _receiver.Secret = hook.GetProperty("secret").GetString();

        // Step 1. Create a stream.
        var stream = await CallAsync(HttpMethod.Post, "streams", """
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
        var streamId = Number(stream, "id");
        Assert.False(Bool(stream, "active"));
        Assert.False(Bool(stream, "live"));
        Assert.False(Bool(stream, "recording"));
        Assert.Equal("test_stream", stream.GetProperty("name").GetString());
        var pushUrl = stream.GetProperty("push_url").GetString()!;
        Assert.StartsWith($"rtmp://127.0.0.1:{_rtmpPort}/live/", pushUrl, StringComparison.Ordinal);

        // Step 2. Create a broadcast.
        var broadcast = await CallAsync(HttpMethod.Post, "broadcasts", $$$"""
            {
                "broadcast": {
                    "name": "test_broadcast",
                    "status": "pending",
                    "share_url": "",
                    "custom_iframe_url": "",
                    "show_dvr_after_finish": false,
                    "pending_message": "Please wait ...",
                    "ad_id": null,
                    "stream_ids": [{{{streamId}}}]
                }
            }
            """, HttpStatusCode.Created);
        var broadcastId = Number(broadcast, "id");
        Assert.Equal("pending", broadcast.GetProperty("status").GetString());
        Assert.Equal([streamId], broadcast.GetProperty("stream_ids").EnumerateArray().Select(e => e.GetInt64()));

        // Step 3. Enable the stream.
        var enabled = await CallAsync(HttpMethod.Patch, $"streams/{streamId}", """{"stream": {"active": true}}""");
        Assert.Equal(streamId, Number(enabled, "id"));
        Assert.True(Bool(enabled, "active"));

        // The user's encoder publishes to the push URL. Step 4: the stream webhook says live. A publish puts the stream's
        // pending broadcast on air (LiveGrains' bound-stream rule), so step 6's broadcast webhook comes with it.
        var encoder = Publish(pushUrl);
        await ExpectAsync(StreamHook(streamId, live: true, recording: false), () => Describe(encoder));
        await ExpectAsync(BroadcastHook(broadcastId, "live"), () => Describe(encoder));

        // Step 5. Change the broadcast status to Live: it is; the answer says so and nothing is sent twice.
        var live = await CallAsync(HttpMethod.Patch, $"broadcasts/{broadcastId}", """{"broadcast": {"status": "live"}}""");
        Assert.Equal(broadcastId, Number(live, "id"));
        Assert.Equal("live", live.GetProperty("status").GetString());

        // Step 7. Start recording: 204. Step 8: the stream webhook says recording.
        using (var started = await _gcore.PutAsync($"streams/{streamId}/start_recording", null))
        {
            Assert.Equal(HttpStatusCode.NoContent, started.StatusCode);
        }

        await ExpectAsync(StreamHook(streamId, live: true, recording: true), () => Describe(encoder));

        // Interruption during streaming: the encoder drops. The stream webhook says not live (and not recording: Gcore
        // cannot record without media), the broadcast is paused, and the recording so far is a video of its own.
        encoder.Kill();
        await ExpectAsync(StreamHook(streamId, live: false, recording: false), () => Describe(null));
        await ExpectAsync(BroadcastHook(broadcastId, "paused"), () => Describe(null));
        var firstVideo = await ExpectVideoAsync(streamId, "pending", null);
        var firstVideoId = Number(firstVideo, "id");
        var interrupted = await CallAsync(HttpMethod.Get, $"streams/{streamId}");
        Assert.False(Bool(interrupted, "live"));
        Assert.True(Bool(interrupted, "active")); // not disabled by the user: the client may pause the broadcast
        var paused = await CallAsync(HttpMethod.Patch, $"broadcasts/{broadcastId}", """{"broadcast": {"status": "paused"}}""");
        Assert.Equal(broadcastId, Number(paused, "id"));
        Assert.Equal("paused", paused.GetProperty("status").GetString());

        // The user streams again within the reconnect window: the same broadcast is live again, still recording.
        encoder = Publish(pushUrl);
        await ExpectAsync(StreamHook(streamId, live: true, recording: true), () => Describe(encoder));
        await ExpectAsync(BroadcastHook(broadcastId, "live"), () => Describe(encoder));

        // Step 9. Stop recording: the answer is the recorded video (of this publish). Step 10: recording false.
        var stopped = await CallAsync(HttpMethod.Put, $"streams/{streamId}/stop_recording");
        var videoId = Number(stopped, "id");
        Assert.NotEqual(firstVideoId, videoId);
        var videoName = stopped.GetProperty("name").GetString()!;
        Assert.Matches(@"^Stream Record: test_stream, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$", videoName);
        AssertTimestamp(stopped, "recording_started_at");
        AssertTimestamp(stopped, "created_at");
        Assert.Equal(streamId, Number(stopped, "stream_id"));
        await ExpectAsync(StreamHook(streamId, live: true, recording: false), () => Describe(encoder));

        // Step 12. Change the broadcast status to Finished. Step 13: its webhook. Finishing ends the live, so nginx-rtmp is
        // told to drop the encoder: step 15's "live": false, and step 11's "pending" video once nginx closed the file.
        var finished = await CallAsync(HttpMethod.Patch, $"broadcasts/{broadcastId}", """{"broadcast": {"status": "finished"}}""");
        Assert.Equal(broadcastId, Number(finished, "id"));
        Assert.Equal("finished", finished.GetProperty("status").GetString());
        await ExpectAsync(BroadcastHook(broadcastId, "finished"), () => Describe(encoder));
        Assert.True(await encoder.WaitForExitAsync(Timeout), "the finished broadcast's encoder was not disconnected. " + Describe(encoder));
        await ExpectAsync(StreamHook(streamId, live: false, recording: false), () => Describe(null));
        var pending = await ExpectVideoAsync(streamId, "pending", videoId);
        Assert.Equal(videoName, pending.GetProperty("name").GetString());

        // Step 14. Disable the stream.
        var disabled = await CallAsync(HttpMethod.Patch, $"streams/{streamId}", """{"stream": {"active": false}}""");
        Assert.Equal(streamId, Number(disabled, "id"));
        Assert.False(Bool(disabled, "active"));
        Assert.False(Bool(disabled, "live"));
        Assert.Equal(JsonValueKind.Array, disabled.GetProperty("transcoded_qualities").ValueKind);
        Assert.Equal(JsonValueKind.Array, disabled.GetProperty("rtmp_play_url").ValueKind);
        Assert.Equal(JsonValueKind.False, disabled.GetProperty("transcoding_enabled").ValueKind);

        // Step 16. Delete the broadcast: 204, and it is gone.
        using (var deleted = await _gcore.DeleteAsync($"broadcasts/{broadcastId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await CallAsync(HttpMethod.Get, $"broadcasts/{broadcastId}", expected: HttpStatusCode.NotFound);

        // Steps 17 and 18: both recordings are probed. One rendition (no transcoding ladder) makes a video viewable and
        // ready at once: "viewable" goes first, as Gcore sends it once its first quality is processed, then "ready".
        var viewable = await ExpectVideoAsync(streamId, "viewable", videoId);
        Assert.Equal("complete", Assert.Single(viewable.GetProperty("converted_videos").EnumerateArray()).GetProperty("status").GetString());
        var ready = await ExpectVideoAsync(streamId, "ready", videoId);
        Assert.Equal(videoName, ready.GetProperty("name").GetString());
        Assert.InRange(Number(ready, "duration"), 1, 600_000);
        var rendition = Assert.Single(ready.GetProperty("converted_videos").EnumerateArray());
        Assert.Equal("complete", rendition.GetProperty("status").GetString());
        await ExpectVideoAsync(streamId, "ready", firstVideoId);

        // Step 19. Get video information.
        var info = await CallAsync(HttpMethod.Get, $"videos/{videoId}");
        Assert.Equal(videoId, Number(info, "id"));
        Assert.Equal(videoName, info.GetProperty("name").GetString());
        Assert.Equal(streamId, Number(info, "stream_id"));
        Assert.Equal(Number(ready, "duration"), Number(info, "duration"));
        Assert.Equal(stopped.GetProperty("recording_started_at").GetString(), info.GetProperty("recording_started_at").GetString());
        AssertTimestamp(info, "created_at");
        Assert.Equal("ready", info.GetProperty("status").GetString());
        Assert.Equal(ready.GetProperty("slug").GetString(), info.GetProperty("slug").GetString());

        // Reuse of a stream: the same stream, updated with a region, answers its push URLs for the next broadcast.
        var reused = await CallAsync(HttpMethod.Patch, $"streams/{streamId}", """{"stream": {"transcoding_region": "dt1"}}""");
        Assert.Equal(streamId, Number(reused, "id"));
        Assert.False(Bool(reused, "live"));
        Assert.False(Bool(reused, "backup_live"));
        Assert.Equal(JsonValueKind.Array, reused.GetProperty("transcoded_qualities").ValueKind);
        var nextPushUrl = reused.GetProperty("push_url").GetString()!;
        Assert.StartsWith($"rtmp://127.0.0.1:{_rtmpPort}/live/", nextPushUrl, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, reused.GetProperty("push_url_srt").ValueKind);
        var nextBroadcast = await CallAsync(HttpMethod.Post, "broadcasts", $$$"""{"broadcast": {"name": "the next show", "status": "pending", "stream_ids": [{{{streamId}}}]}}""", HttpStatusCode.Created);
        var nextBroadcastId = Number(nextBroadcast, "id");
        Assert.NotEqual(broadcastId, nextBroadcastId);
        await CallAsync(HttpMethod.Patch, $"streams/{streamId}", """{"stream": {"active": true}}""");
        var next = Publish(nextPushUrl);
        await ExpectAsync(StreamHook(streamId, live: true, recording: false), () => Describe(next));
        await ExpectAsync(BroadcastHook(nextBroadcastId, "live"), () => Describe(next));
        await CallAsync(HttpMethod.Patch, $"broadcasts/{nextBroadcastId}", """{"broadcast": {"status": "finished"}}""");
        await ExpectAsync(BroadcastHook(nextBroadcastId, "finished"), () => Describe(next));
        Assert.True(await next.WaitForExitAsync(Timeout), "the next broadcast's encoder was not disconnected. " + Describe(next));
        await ExpectAsync(StreamHook(streamId, live: false, recording: false), () => Describe(next));

        // Everything, in order per resource, exactly once, signed, and nothing else: no webhook for what Gcore has none
        // for (enable/disable, key rotation, idle), and the reuse publish recorded nothing Gcore asked for, so no video.
        await Eventually.TrueAsync(() => _receiver.Acked.Count(r => r.Type == "video") == 6, Timeout, "six video webhooks");
        Assert.Empty(_receiver.Rejected);
        Assert.Equal(
            [
                StreamBody(true, false), StreamBody(true, true), StreamBody(false, false), StreamBody(true, true), StreamBody(true, false),
                StreamBody(false, false), StreamBody(true, false), StreamBody(false, false),
            ],
            Bodies($"stream:{streamId}"));
        Assert.Equal([BroadcastBody("live"), BroadcastBody("paused"), BroadcastBody("live"), BroadcastBody("finished")], Bodies($"broadcast:{broadcastId}"));
        Assert.Equal([BroadcastBody("live"), BroadcastBody("finished")], Bodies($"broadcast:{nextBroadcastId}"));
        Assert.Equal(["pending", "viewable", "ready"], VideoStatuses(firstVideoId));
        Assert.Equal(["pending", "viewable", "ready"], VideoStatuses(videoId));
        Assert.Equal(
            [$"broadcast:{broadcastId}", $"broadcast:{nextBroadcastId}", $"stream:{streamId}", $"video:{firstVideoId}", $"video:{videoId}"],
            _receiver.Acked.Select(r => r.Resource).Distinct().Order(StringComparer.Ordinal));
        Assert.All(_receiver.Acked, r => Assert.Equal(["type", "message"], r.Data.EnumerateObject().Select(p => p.Name)));

        string StreamBody(bool isLive, bool recording) => StreamHook(streamId, isLive, recording);
        static string BroadcastBody(string status) => $"broadcast:{status}";
    }

    /// <summary>An encoder, disposed with the test whatever happens.</summary>
    private FfmpegPublisher Publish(string url)
    {
        var encoder = FfmpegPublisher.Start(url);
        _encoders.Add(encoder);
        return encoder;
    }

    private static string StreamHook(long id, bool live, bool recording) =>
        "{\"type\":\"stream\",\"message\":{\"stream\":{\"id\":" + id.ToString(CultureInfo.InvariantCulture)
        + ",\"live\":" + (live ? "true" : "false") + ",\"recording\":" + (recording ? "true" : "false") + "}}}";

    private static string BroadcastHook(long id, string status) =>
        "{\"type\":\"broadcast\",\"message\":{\"broadcast\":{\"id\":" + id.ToString(CultureInfo.InvariantCulture) + ",\"status\":\"" + status + "\"}}}";

    /// <summary>The raw bodies of a resource's webhooks in arrival order; broadcasts as <c>broadcast:{status}</c>.</summary>
    private List<string> Bodies(string resource) =>
        [.. _receiver.Acked.Where(r => r.Resource == resource).Select(r => r.Type == "broadcast"
            ? "broadcast:" + r.Data.GetProperty("message").GetProperty("broadcast").GetProperty("status").GetString()
            : r.Data.GetRawText())];

    private List<string?> VideoStatuses(long videoId) =>
        [.. _receiver.Acked.Where(r => r.Resource == $"video:{videoId}").Select(r => r.Data.GetProperty("message").GetProperty("video").GetProperty("status").GetString())];

    /// <summary>Waits until the receiver has one more webhook with exactly <paramref name="body"/> than it had before this step.</summary>
    private async Task ExpectAsync(string body, Func<string> context)
    {
        var type = body.Contains("\"broadcast\"", StringComparison.Ordinal) ? "broadcast" : "stream";
        var id = JsonDocument.Parse(body).RootElement.GetProperty("message").GetProperty(type).GetProperty("id").GetInt64();
        var resource = $"{type}:{id}";
        var seen = _expected.GetValueOrDefault(resource);
        await Eventually.TrueAsync(
            () => _receiver.Acked.Count(r => r.Resource == resource) > seen,
            Timeout,
            $"webhook #{seen + 1} of {resource}: {body}. Received: {Received()} {context()}");
        var received = _receiver.Acked.Where(r => r.Resource == resource).ElementAt(seen);
        Assert.Equal(body, received.Data.GetRawText());
        _expected[resource] = seen + 1;
    }

    private readonly Dictionary<string, int> _expected = new(StringComparer.Ordinal);

    /// <summary>Waits for a video webhook with <paramref name="status"/> (of <paramref name="videoId"/> when given); checks its shape.</summary>
    private async Task<JsonElement> ExpectVideoAsync(long streamId, string status, long? videoId)
    {
        var received = await Eventually.ValueAsync(
            () => Task.FromResult(_receiver.Acked.Where(r => r.Type == "video")
                .Select(r => r.Data.GetProperty("message").GetProperty("video"))
                .LastOrDefault(v => v.GetProperty("status").GetString() == status && (videoId is null || v.GetProperty("id").GetInt64() == videoId))),
            v => v.ValueKind == JsonValueKind.Object,
            Timeout,
            $"a {status} video webhook{(videoId is null ? "" : $" of video {videoId}")}. Received: {Received()} {Describe(null)}");
        Assert.Equal(JsonValueKind.Number, received.GetProperty("id").ValueKind);
        Assert.Equal(JsonValueKind.String, received.GetProperty("slug").ValueKind);
        Assert.StartsWith("Stream Record: test_stream, ", received.GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Number, received.GetProperty("duration").ValueKind);
        Assert.Equal(streamId, received.GetProperty("stream_id").GetInt64());
        Assert.Equal(JsonValueKind.Array, received.GetProperty("converted_videos").ValueKind);
        return received;
    }

    private async Task<JsonElement> CallAsync(HttpMethod method, string path, string? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _gcore.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static long Number(JsonElement element, string name)
    {
        var value = element.GetProperty(name);
        Assert.Equal(JsonValueKind.Number, value.ValueKind);
        return value.GetInt64();
    }

    private static bool Bool(JsonElement element, string name)
    {
        var value = element.GetProperty(name);
        Assert.True(value.ValueKind is JsonValueKind.True or JsonValueKind.False, $"{name} is not a boolean: {value}");
        return value.GetBoolean();
    }

    private static void AssertTimestamp(JsonElement element, string name) =>
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", element.GetProperty(name).GetString()!);

    private string Received() => string.Join(" | ", _receiver.Acked.Select(r => r.Data.GetRawText()));

    private string Describe(FfmpegPublisher? ffmpeg) =>
        (ffmpeg is null ? "" : $"\n--- ffmpeg ---\n{ffmpeg.Describe(20)}") + $"\n--- nginx ---\n{_nginx.Describe(30)}\n--- gateway ---\n{_gateway.Output.Tail(40)}";
}

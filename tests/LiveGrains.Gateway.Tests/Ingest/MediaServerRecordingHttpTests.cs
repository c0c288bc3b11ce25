using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Ingest;

/// <summary>
/// Recordings from SRS (<c>on_dvr</c>) and MediaMTX (<c>runOnRecordSegmentComplete</c> running curl, as
/// infra/media/mediamtx.yml does) become videos exactly like nginx-rtmp's record_done (docs/ingest.md "Recordings as
/// videos"). Neither server is installable here: the hooks get the payloads those servers send, through the real HTTP
/// pipeline, for files a real ffmpeg wrote where the server would have, and a real ffprobe measures them.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MediaServerRecordingHttpTests(GatewayFactory factory)
{
    private const string Secret = "test-hook-secret";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _api = factory.CreateClient(GatewayFactory.AcmeKey);
    private readonly HttpClient _hooks = factory.CreateClient();

    [Fact]
    public async Task SrsOnDvrFilesBecomeReadyVideosAndAReconnectGivesTwo()
    {
        var (streamId, key) = await CreateStreamAsync();
        var cwd = TestDirectories.Create("srs");

        // dvr_path ./objs/nginx/html/[app]/[stream].[timestamp].flv (SRS's default, relative to its cwd): SRS reports it as is.
        Directory.CreateDirectory(Path.Combine(cwd, "objs", "nginx", "html", "live"));
        Assert.Equal("0", await SrsAsync(new { action = "on_publish", client_id = "k3w2", stream = key }));
        var liveId = await LiveOfAsync(streamId);
        var first = $"./objs/nginx/html/live/{key}.1764480000123.flv";
        await RecordAsync(Path.Combine(cwd, first), seconds: 3);
        Assert.Equal("0", await SrsAsync(new { action = "on_unpublish", client_id = "k3w2", stream = key }));
        Assert.Equal("0", await SrsAsync(new { action = "on_dvr", client_id = "k3w2", stream = key, cwd, file = first }));

        // The encoder reconnects within the window: the same live, a second session file, a second video.
        Assert.Equal("0", await SrsAsync(new { action = "on_publish", client_id = "k3w9", stream = key }));
        Assert.Equal(liveId, await LiveOfAsync(streamId));
        var second = Path.Combine(cwd, "objs", "nginx", "html", "live", $"{key}.1764480009456.flv"); // an absolute dvr_path
        await RecordAsync(second, seconds: 2);
        Assert.Equal("0", await SrsAsync(new { action = "on_unpublish", client_id = "k3w9", stream = key }));
        Assert.Equal("0", await SrsAsync(new { action = "on_dvr", client_id = "k3w9", stream = key, cwd = "/", file = second }));

        var videos = await ReadyVideosAsync(liveId, 2);
        Assert.All(videos, v => Assert.Equal(streamId, v.GetProperty("stream_id").GetString()));
        Assert.Equal([2.0, 3.0], videos.Select(v => Math.Round(v.GetProperty("duration_seconds").GetDouble())).Order());
        foreach (var video in videos)
        {
            var file = video.GetProperty("file").GetString()!;
            Assert.Equal(Path.Combine(cwd, "objs", "nginx", "html", "live", video.GetProperty("video_id").GetString() + ".flv"), file);
            Assert.True(File.Exists(file), $"the recording was renamed to {file}");
            Assert.DoesNotContain(key, video.ToString(), StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(cwd, first)), "the file named after the key is left behind");

        // Refusals: a wrong secret, a name that is not a stream key, and a relative file without an absolute cwd.
        Assert.Equal("1", await SrsAsync(new { action = "on_dvr", stream = key, cwd, file = first }, "wrong"));
        Assert.Equal("1", await SrsAsync(new { action = "on_dvr", stream = "livestream", cwd, file = first }));
        Assert.Equal("1", await SrsAsync(new { action = "on_dvr", stream = key, cwd = "objs", file = first }));
        TestDirectories.TryDelete(cwd);
    }

    [Fact]
    public async Task MediaMtxSegmentsBecomeReadyVideosOutOfTheKeysDirectory()
    {
        var (streamId, key) = await CreateStreamAsync();
        var root = TestDirectories.Create("mediamtx");
        using (var publish = await _hooks.PostAsync($"/v1/ingest-hooks/mediamtx?secret={Secret}", Json(new
        {
            user = "", password = "", token = "", ip = "127.0.0.1", action = "publish", path = $"live/{key}", protocol = "rtmp",
            id = "f3b1c2d4-0000-4000-8000-000000000001", query = "",
        })))
        {
            Assert.Equal(HttpStatusCode.NoContent, publish.StatusCode);
        }

        var liveId = await LiveOfAsync(streamId);

        // recordPath /var/recordings/mediamtx/%path/%Y-%m-%d_%H-%M-%S-%f, recordFormat fmp4: %path is live/<stream key>.
        var keyDirectory = Path.Combine(root, "live", key);
        var segment = Path.Combine(keyDirectory, "2026-11-30_04-50-12-123456.mp4");
        await RecordAsync(segment, seconds: 3, fragmentedMp4: true);
        using (var done = await SegmentCompleteAsync($"live/{key}", segment))
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }

        // WHIP publishes on live/<stream id> (the key is the bearer token): the stream id alone routes the segment.
        var whipSegment = Path.Combine(root, "live", streamId, "2026-11-30_04-51-40-000001.mp4");
        await RecordAsync(whipSegment, seconds: 2, fragmentedMp4: true);
        using (var done = await SegmentCompleteAsync($"live/{streamId}", whipSegment))
        {
            Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        }

        var videos = await ReadyVideosAsync(liveId, 2);
        var keyed = videos.Single(v => Math.Abs(v.GetProperty("duration_seconds").GetDouble() - 3.0) < 0.5);
        var file = keyed.GetProperty("file").GetString()!;
        Assert.Equal(Path.Combine(root, "live", keyed.GetProperty("video_id").GetString() + ".mp4"), file);
        Assert.True(File.Exists(file));
        Assert.False(File.Exists(segment));
        Assert.DoesNotContain(key, JsonSerializer.Serialize(videos), StringComparison.Ordinal);
        Assert.Contains(videos, v => Math.Abs(v.GetProperty("duration_seconds").GetDouble() - 2.0) < 0.5);

        // Refusals: no secret, a path naming no stream, and a form without a segment.
        using (var noSecret = await _hooks.PostAsync("/v1/ingest-hooks/mediamtx-recording", Form($"live/{key}", segment)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, noSecret.StatusCode);
        }

        using (var unknown = await SegmentCompleteAsync("live/mystream", segment))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (var json = await _hooks.PostAsync($"/v1/ingest-hooks/mediamtx-recording?secret={Secret}", Json(new { path = $"live/{key}" })))
        {
            await json.ValidationProblemAsync("segment_path");
        }

        TestDirectories.TryDelete(root);
    }

    private async Task<(string StreamId, string Key)> CreateStreamAsync()
    {
        var roomId = await _api.CreateRoomAsync();
        var stream = await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        return (stream.GetProperty("stream_id").GetString()!, stream.GetProperty("stream_key").GetString()!);
    }

    private async Task<string> LiveOfAsync(string streamId) =>
        (await (await _api.GetAsync($"/v1/streams/{streamId}")).OkJsonAsync()).GetProperty("live_id").GetString()!;

    private async Task<JsonElement[]> ReadyVideosAsync(string liveId, int count)
    {
        var page = await Eventually.ValueAsync(
            async () => await (await _api.GetAsync($"/v1/videos?live_id={liveId}")).OkJsonAsync(),
            p => p.GetProperty("items").GetArrayLength() == count
                && p.GetProperty("items").EnumerateArray().All(v => v.GetProperty("status").GetString() != "pending"),
            Timeout,
            $"{count} videos of {liveId} are listed and probed");
        var videos = page.GetProperty("items").EnumerateArray().ToArray();
        Assert.All(videos, v => Assert.Equal("ready", v.GetProperty("status").GetString()));
        return videos;
    }

    /// <summary>What SRS answers is the body: 0 allows (done), anything else is an error SRS logs.</summary>
    private async Task<string> SrsAsync(object fields, string secret = Secret)
    {
        // The fields SRS 5 sends with every hook; the test's own ones (action, stream, cwd, file...) override them.
        var body = new Dictionary<string, object?>
        {
            ["server_id"] = "vid-0xk989d", ["service_id"] = "plw1ab1d", ["client_id"] = "341w361a", ["ip"] = "127.0.0.1",
            ["vhost"] = "__defaultVhost__", ["app"] = "live", ["tcUrl"] = "rtmp://127.0.0.1:1935/live", ["param"] = "",
            ["stream_id"] = "vid-124q9y3",
        };
        foreach (var property in JsonSerializer.SerializeToElement(fields).EnumerateObject())
        {
            body[property.Name] = property.Value.GetString();
        }

        using var response = await _hooks.PostAsync($"/v1/ingest-hooks/srs?secret={secret}", Json(body));
        return await response.Content.ReadAsStringAsync();
    }

    private Task<HttpResponseMessage> SegmentCompleteAsync(string path, string segment) =>
        _hooks.PostAsync($"/v1/ingest-hooks/mediamtx-recording?secret={Secret}", Form(path, segment));

    /// <summary>What <c>curl --data-urlencode path=$MTX_PATH --data-urlencode segment_path=$MTX_SEGMENT_PATH ...</c> posts.</summary>
    private static FormUrlEncodedContent Form(string path, string segment) => new(new Dictionary<string, string>
    {
        ["path"] = path, ["segment_path"] = segment, ["segment_duration"] = "3s",
    });

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    /// <summary>A real recording of <paramref name="seconds"/>: FLV as SRS's DVR writes, or fragmented MP4 as MediaMTX's fmp4.</summary>
    private static async Task RecordAsync(string file, int seconds, bool fragmentedMp4 = false)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var start = new ProcessStartInfo(ExternalTool.Require("ffmpeg", "ffmpeg")) { RedirectStandardError = true, UseShellExecute = false };
        string[] arguments =
        [
            "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", $"testsrc=duration={seconds}:size=160x120:rate=15",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            .. fragmentedMp4 ? new[] { "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4" } : ["-f", "flv"],
            file,
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(cancel.Token);
        Assert.True(process.ExitCode == 0, $"ffmpeg failed: {await errors}");
    }
}

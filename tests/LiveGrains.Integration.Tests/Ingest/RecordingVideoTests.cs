using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Ingest;

/// <summary>
/// Recordings as videos, end to end: real nginx-rtmp records (<c>record all</c>) and reports each finished file
/// (<c>on_record_done</c>) to the gateway; the video grain probes the file with the real ffprobe.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class RecordingVideoTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly string _recordings = TestDirectories.Create("recordings");
    private ServiceProcess _gateway = null!;
    private NginxRtmpServer _nginx = null!;
    private IngestApi _api = null!;

    public async Task InitializeAsync()
    {
        var (gateway, url, apiKey) = IngestApi.StartEmbeddedGateway();
        _gateway = gateway;
        await _gateway.WaitForHttpAsync($"{url}/alive", IngestApi.StartTimeout);
        _api = new IngestApi(url, apiKey);
        _nginx = await NginxRtmpServer.StartAsync(_api.NginxHookUrl, new NginxRtmpOptions
        {
            ExtraApplicationDirectives = $"record all; record_path {_recordings}; record_unique on; on_record_done \"{_api.NginxHookUrl}\";",
        });
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
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
    public async Task EachPublishBecomesAVideoThatIsProbedReadyAndAReconnectStartsASecondOne()
    {
        var roomId = await _api.CreateRoomAsync(reconnectWindowSeconds: 30);
        var (streamId, key) = await _api.CreateStreamAsync(roomId);

        string liveId;
        await using (var first = FfmpegPublisher.Start(_nginx.PublishUrl(key), new FfmpegPublisherOptions { Duration = TimeSpan.FromSeconds(4) }))
        {
            liveId = (await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(first))).GetProperty("live_id").GetString()!;
            Assert.True(await first.WaitForExitAsync(Timeout), Describe(first));
        }

        var one = await VideosAsync(liveId, 1);
        var video = await Eventually.ValueAsync(
            () => _api.SendAsync(HttpMethod.Get, $"/v1/videos/{one[0].GetProperty("video_id").GetString()}"),
            v => v.GetProperty("status").GetString() != "pending",
            Timeout,
            "the video is probed");
        Assert.Equal("ready", video.GetProperty("status").GetString());
        Assert.Equal(streamId, video.GetProperty("stream_id").GetString());
        Assert.Equal(roomId, video.GetProperty("room_id").GetString());
        Assert.InRange(video.GetProperty("duration_seconds").GetDouble(), 2.5, 5.5);
        Assert.True(video.GetProperty("size_bytes").GetInt64() > 0);
        Assert.NotEqual(JsonValueKind.Null, video.GetProperty("ready_at").ValueKind);

        // The stream key (nginx-rtmp's file name) never shows: the file is renamed after the video.
        var file = video.GetProperty("file").GetString()!;
        Assert.DoesNotContain(key, file, StringComparison.Ordinal);
        Assert.True(File.Exists(file), file);

        // Reconnect within the window: same live, a second recording, a second video.
        await using (var second = FfmpegPublisher.Start(_nginx.PublishUrl(key), new FfmpegPublisherOptions { Duration = TimeSpan.FromSeconds(3) }))
        {
            var back = await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(second));
            Assert.Equal(liveId, back.GetProperty("live_id").GetString());
            Assert.True(await second.WaitForExitAsync(Timeout), Describe(second));
        }

        var two = await VideosAsync(liveId, 2);
        Assert.Equal(2, two.Select(v => v.GetProperty("video_id").GetString()).Distinct().Count());

        // Delete: gone from reads and listings, and its file too.
        using var deleted = await _api.Http.DeleteAsync($"/v1/videos/{video.GetProperty("video_id").GetString()}");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(File.Exists(file));
        Assert.Single((await _api.SendAsync(HttpMethod.Get, $"/v1/videos?live_id={liveId}")).GetProperty("items").EnumerateArray());
    }

    private async Task<JsonElement[]> VideosAsync(string liveId, int count) =>
        [.. (await Eventually.ValueAsync(
            () => _api.SendAsync(HttpMethod.Get, $"/v1/videos?live_id={liveId}"),
            page => page.GetProperty("items").GetArrayLength() >= count,
            Timeout,
            $"{count} video(s) of live {liveId}. {_nginx.Describe(30)}")).GetProperty("items").EnumerateArray()];

    private string Describe(FfmpegPublisher ffmpeg) =>
        $"\n--- ffmpeg ---\n{ffmpeg.Describe(30)}\n--- nginx ---\n{_nginx.Describe(40)}\n--- gateway ---\n{_gateway.Output.Tail(40)}";
}

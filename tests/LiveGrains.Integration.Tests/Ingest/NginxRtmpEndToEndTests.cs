using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Ingest;

/// <summary>
/// Real nginx-rtmp, real ffmpeg, the real gateway process: nginx's on_publish/on_publish_done/on_update reach the
/// gateway over loopback HTTP, and the gateway's answers decide what nginx lets through.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class NginxRtmpEndToEndTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ServiceProcess _gateway = null!;
    private NginxRtmpServer _nginx = null!;
    private IngestApi _api = null!;

    public async Task InitializeAsync()
    {
        var (gateway, url, apiKey) = IngestApi.StartEmbeddedGateway();
        _gateway = gateway;
        await _gateway.WaitForHttpAsync($"{url}/alive", IngestApi.StartTimeout);
        _api = new IngestApi(url, apiKey);

        // on_update every second, so a rotated or disabled key's publisher is dropped within a couple of seconds.
        _nginx = await NginxRtmpServer.StartAsync(_api.NginxHookUrl, new NginxRtmpOptions { NotifyUpdateTimeout = TimeSpan.FromSeconds(1) });
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
    }

    [Fact]
    public async Task AnEncoderGoesLivePausesOnACrashResumesTheSameLiveAndEndsAfterTheWindow()
    {
        var roomId = await _api.CreateRoomAsync();
        var (streamId, key) = await _api.CreateStreamAsync(roomId, reconnectWindowSeconds: 3);

        await using (var first = FfmpegPublisher.Start(_nginx.PublishUrl(key)))
        {
            var connected = await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(first));
            var liveId = connected.GetProperty("live_id").GetString()!;
            await _api.WaitForLiveAsync(liveId, "live", Timeout, () => Describe(first));
            Assert.Equal(liveId, (await _api.SendAsync(HttpMethod.Get, $"/v1/rooms/{roomId}")).GetProperty("active_live_id").GetString());

            first.Kill();

            await _api.WaitForStreamAsync(streamId, "reconnecting", Timeout, () => Describe(first));
            await _api.WaitForLiveAsync(liveId, "paused", Timeout, () => Describe(first));

            await using var second = FfmpegPublisher.Start(_nginx.PublishUrl(key));
            var back = await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(second));
            Assert.Equal(liveId, back.GetProperty("live_id").GetString());
            await _api.WaitForLiveAsync(liveId, "live", Timeout, () => Describe(second));

            second.Kill();
            await _api.WaitForStreamAsync(streamId, "reconnecting", Timeout, () => Describe(second));

            // 3 s window: it ends by itself, with reconnect_timeout.
            var idle = await _api.WaitForStreamAsync(streamId, "idle", Timeout, () => Describe(second));
            Assert.Equal(System.Text.Json.JsonValueKind.Null, idle.GetProperty("live_id").ValueKind);
            var ended = await _api.WaitForLiveAsync(liveId, "ended", Timeout, () => Describe(second));
            Assert.Equal("reconnect_timeout", ended.GetProperty("end_reason").GetString());
        }
    }

    [Fact]
    public async Task AWrongKeyCannotPublishAndARotatedKeyIsDropped()
    {
        var roomId = await _api.CreateRoomAsync();
        var (streamId, key) = await _api.CreateStreamAsync(roomId, reconnectWindowSeconds: 30);

        await using (var wrong = FfmpegPublisher.Start(_nginx.PublishUrl(streamId + ".0123456789abcdef")))
        {
            Assert.True(await wrong.WaitForExitAsync(Timeout), $"ffmpeg with a wrong key still runs. {Describe(wrong)}");
            Assert.NotEqual(0, wrong.ExitCode);
            Assert.Equal("idle", (await _api.GetStreamAsync(streamId)).GetProperty("status").GetString());
        }

        await using var old = FfmpegPublisher.Start(_nginx.PublishUrl(key));
        var connected = await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(old));
        var liveId = connected.GetProperty("live_id").GetString()!;

        var newKey = await _api.RotateKeyAsync(streamId);

        // nginx's next on_update carries the old key, is refused, and nginx drops the publisher.
        Assert.True(await old.WaitForExitAsync(Timeout), $"the old key's publisher was not dropped. {Describe(old)}");
        await _api.WaitForStreamAsync(streamId, "reconnecting", Timeout, () => Describe(old));

        await using (var again = FfmpegPublisher.Start(_nginx.PublishUrl(key)))
        {
            Assert.True(await again.WaitForExitAsync(Timeout), $"the old key could publish again. {Describe(again)}");
        }

        // The new key picks up the same live within the window.
        await using var fresh = FfmpegPublisher.Start(_nginx.PublishUrl(newKey));
        var back = await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(fresh));
        Assert.Equal(liveId, back.GetProperty("live_id").GetString());
        fresh.Kill();
    }

    private string Describe(FfmpegPublisher ffmpeg) =>
        $"\n--- ffmpeg ---\n{ffmpeg.Describe(30)}\n--- nginx ---\n{_nginx.Describe(40)}\n--- gateway ---\n{_gateway.Output.Tail(40)}";
}

using System.Diagnostics;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Ingest;

/// <summary>
/// Bound streams, backup ingest and the forced close, end to end: real nginx-rtmp with its control module, real ffmpeg
/// encoders, the real gateway process told <c>Ingest:NginxRtmpControlUrl</c>. A closed live's encoder must really be
/// disconnected by nginx (its ffmpeg exits), not just marked so.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class PublisherDropTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>The contract's 2 s, plus the time ffmpeg takes to notice its socket closed.</summary>
    private static readonly TimeSpan DropDeadline = TimeSpan.FromSeconds(3);

    private ServiceProcess _gateway = null!;
    private NginxRtmpServer _nginx = null!;
    private IngestApi _api = null!;

    public async Task InitializeAsync()
    {
        var controlPort = FreePort.Next();
        var (gateway, url, apiKey) = IngestApi.StartEmbeddedGateway(new Dictionary<string, string?>
        {
            ["Ingest__NginxRtmpControlUrl"] = NginxRtmpServer.ControlUrlFor(controlPort),
        });
        _gateway = gateway;
        await _gateway.WaitForHttpAsync($"{url}/alive", IngestApi.StartTimeout);
        _api = new IngestApi(url, apiKey);

        // on_update only every 30 s, as in production: a drop within seconds can only come from the control module.
        _nginx = await NginxRtmpServer.StartAsync(
            _api.NginxHookUrl, new NginxRtmpOptions { ControlPort = controlPort, NotifyUpdateTimeout = TimeSpan.FromSeconds(30) });
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
    public async Task AScheduledLiveWithABoundStreamGoesLiveOnPublishAndAGoLiveThatSupersedesItDisconnectsTheEncoder()
    {
        var roomId = await _api.CreateRoomAsync();
        var scheduled = await _api.SendAsync(HttpMethod.Post, $"/v1/rooms/{roomId}/lives", new { title = "the show" });
        var liveId = scheduled.GetProperty("live_id").GetString()!;
        var (streamId, key) = await _api.CreateStreamAsync(roomId, liveId: liveId);

        await using var encoder = FfmpegPublisher.Start(_nginx.PublishUrl(key));
        var connected = await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(encoder));
        Assert.Equal(liveId, connected.GetProperty("live_id").GetString());
        var live = await _api.WaitForLiveAsync(liveId, "live", Timeout, () => Describe(encoder));
        Assert.Contains(streamId, live.GetProperty("stream_ids").EnumerateArray().Select(s => s.GetString()));

        var clock = Stopwatch.StartNew();
        var goLive = await _api.SendAsync(HttpMethod.Post, $"/v1/rooms/{roomId}/go-live", new { title = "from the app" });
        Assert.Equal(liveId, goLive.GetProperty("closed_live").GetProperty("live_id").GetString());

        Assert.True(await encoder.WaitForExitAsync(DropDeadline), $"the superseded live's encoder still publishes after {clock.Elapsed}. {Describe(encoder)}");
        var idle = await _api.WaitForStreamAsync(streamId, "idle", Timeout, () => Describe(encoder));
        Assert.NotEqual(JsonValueKind.Null, idle.GetProperty("disconnected_at").ValueKind);
        Assert.Equal("superseded", (await _api.GetLiveAsync(liveId)).GetProperty("end_reason").GetString());
    }

    [Fact]
    public async Task EndingTheLiveDisablingOrRotatingTheStreamDisconnectsTheEncoder()
    {
        // End: the live the encoder feeds ends from the API.
        await DropsAsync(async (streamId, liveId) => await _api.SendAsync(HttpMethod.Post, $"/v1/lives/{liveId}/end"), "idle");

        // Disable: the key is refused from now on and the live ends.
        await DropsAsync(async (streamId, _) => await _api.SendAsync(HttpMethod.Post, $"/v1/streams/{streamId}/disable"), "idle");

        // Rotate: the old key's encoder goes, the live waits for the new key (reconnecting).
        await DropsAsync(async (streamId, _) => await _api.RotateKeyAsync(streamId), "reconnecting");
    }

    [Fact]
    public async Task APrimaryAndABackupKeepTheLiveOnAirUntilBothAreGone()
    {
        var roomId = await _api.CreateRoomAsync(reconnectWindowSeconds: 30);
        var (primaryId, primaryKey) = await _api.CreateStreamAsync(roomId);
        var (backupId, backupKey) = await _api.CreateStreamAsync(roomId, role: "backup");

        await using var primary = FfmpegPublisher.Start(_nginx.PublishUrl(primaryKey));
        var liveId = (await _api.WaitForStreamAsync(primaryId, "connected", Timeout, () => Describe(primary))).GetProperty("live_id").GetString()!;
        await using var backup = FfmpegPublisher.Start(_nginx.PublishUrl(backupKey));
        var joined = await _api.WaitForStreamAsync(backupId, "connected", Timeout, () => Describe(backup));
        Assert.Equal(liveId, joined.GetProperty("live_id").GetString());
        Assert.Equal("backup", joined.GetProperty("role").GetString());

        primary.Kill();
        await _api.WaitForStreamAsync(primaryId, "reconnecting", Timeout, () => Describe(primary));
        var live = await _api.GetLiveAsync(liveId);
        Assert.Equal("live", live.GetProperty("status").GetString());
        Assert.Equal(new[] { backupId, primaryId }.Order(), live.GetProperty("stream_ids").EnumerateArray().Select(s => s.GetString()!).Order());

        backup.Kill();
        await _api.WaitForStreamAsync(backupId, "reconnecting", Timeout, () => Describe(backup));
        await _api.WaitForLiveAsync(liveId, "paused", Timeout, () => Describe(backup));
    }

    private async Task DropsAsync(Func<string, string, Task> action, string streamStatusAfter)
    {
        var roomId = await _api.CreateRoomAsync();
        var (streamId, key) = await _api.CreateStreamAsync(roomId);
        await using var encoder = FfmpegPublisher.Start(_nginx.PublishUrl(key));
        var liveId = (await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(encoder))).GetProperty("live_id").GetString()!;

        var clock = Stopwatch.StartNew();
        await action(streamId, liveId);

        Assert.True(await encoder.WaitForExitAsync(DropDeadline), $"the encoder still publishes after {clock.Elapsed}. {Describe(encoder)}");
        await _api.WaitForStreamAsync(streamId, streamStatusAfter, Timeout, () => Describe(encoder));
    }

    private string Describe(FfmpegPublisher ffmpeg) =>
        $"\n--- ffmpeg ---\n{ffmpeg.Describe(30)}\n--- nginx ---\n{_nginx.Describe(40)}\n--- gateway ---\n{_gateway.Output.Tail(40)}";
}

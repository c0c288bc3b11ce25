namespace LiveGrains.Testing.Tests;

public sealed class NginxRtmpServerTests
{
    private const string HookPath = "/v1/ingest-hooks/nginx-rtmp";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APublishTheCallbackAllowsKeepsStreaming(bool masterProcess)
    {
        await using var hook = new RtmpCallbackListener(_ => 200);
        await using var nginx = await NginxRtmpServer.StartAsync(
            hook.Url($"{HookPath}?secret=s3cret"),
            new NginxRtmpOptions { MasterProcess = masterProcess, NotifyUpdateTimeout = TimeSpan.FromSeconds(1) });
        await using var ffmpeg = FfmpegPublisher.Start(nginx.PublishUrl("key-allowed"));

        await Eventually.TrueAsync(
            () => hook.Saw("publish", "key-allowed"),
            Timeout,
            $"nginx calls on_publish. {hook.Describe()}\n{nginx.Describe()}\n{ffmpeg.Describe()}");
        var publish = hook.Calls.First(c => c.Call == "publish");
        Assert.Equal(HookPath, publish.Path);
        Assert.Equal("s3cret", publish.Query["secret"]);
        Assert.Equal("live", publish.Form["app"]);

        // Media keeps flowing: nginx reports the publish as alive (on_update) again and again.
        await Eventually.TrueAsync(
            () => hook.Calls.Count(c => c.Call == "update_publish" && c.Name == "key-allowed") >= 2,
            Timeout,
            $"nginx calls on_update twice. {hook.Describe()}\n{nginx.Describe()}");
        Assert.False(ffmpeg.HasExited, ffmpeg.Describe());

        await ffmpeg.StopAsync();
        await Eventually.TrueAsync(
            () => hook.Saw("publish_done", "key-allowed"),
            Timeout,
            $"nginx calls on_publish_done. {hook.Describe()}\n{nginx.Describe()}");
    }

    [Fact]
    public async Task APublishTheCallbackForbidsEndsTheEncoder()
    {
        await using var hook = new RtmpCallbackListener(_ => 403);
        await using var nginx = await NginxRtmpServer.StartAsync(hook.Url(HookPath));
        await using var ffmpeg = FfmpegPublisher.Start(nginx.PublishUrl("key-refused"));

        Assert.True(await ffmpeg.WaitForExitAsync(Timeout), $"ffmpeg still runs. {ffmpeg.Describe()}");

        Assert.NotEqual(0, ffmpeg.ExitCode);
        Assert.True(hook.Saw("publish", "key-refused"), hook.Describe());
        Assert.False(hook.Saw("update_publish", "key-refused"), hook.Describe());
    }

    [Fact]
    public async Task AKilledEncoderIsReportedAsPublishDone()
    {
        await using var hook = new RtmpCallbackListener(_ => 200);
        await using var nginx = await NginxRtmpServer.StartAsync(hook.Url(HookPath));
        await using var ffmpeg = FfmpegPublisher.Start(nginx.PublishUrl("key-crash"));
        await Eventually.TrueAsync(() => hook.Saw("publish", "key-crash"), Timeout, $"on_publish. {hook.Describe()}");

        ffmpeg.Kill();

        await Eventually.TrueAsync(
            () => hook.Saw("publish_done", "key-crash"),
            Timeout,
            $"nginx notices the dropped connection. {hook.Describe()}\n{nginx.Describe()}");
    }

    [Fact]
    public async Task StoppingNginxFreesItsPortAndScratchDirectory()
    {
        await using var hook = new RtmpCallbackListener(_ => 200);
        var nginx = await NginxRtmpServer.StartAsync(hook.Url(HookPath));
        var port = nginx.Port;
        Assert.True(await FreePort.IsListeningAsync(port));
        Assert.Contains("load_module " + NginxRtmpServer.DefaultModulePath, await File.ReadAllTextAsync(nginx.ConfigPath));

        await nginx.StopAsync();
        Assert.True(nginx.HasExited);
        Assert.False(await FreePort.IsListeningAsync(port));

        await nginx.DisposeAsync();
        Assert.False(Directory.Exists(nginx.Directory));
    }
}

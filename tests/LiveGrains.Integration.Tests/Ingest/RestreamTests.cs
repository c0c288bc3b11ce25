using System.Xml.Linq;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Ingest;

/// <summary>
/// Restreaming end to end (docs/ingest.md "Destinations"): the ingest nginx-rtmp runs the shipped restream script
/// (infra/media/livegrains-restream.sh) with <c>exec_push</c>, as infra/media/nginx-rtmp.conf does; a second nginx-rtmp
/// plays Twitch's ingest. A real ffmpeg publishes; the second server must really receive the push (its rtmp_stat page
/// shows the destination's key publishing), a destination at a dead port must fail on its own, disabling one stops only
/// its push, and ending the live must take every destination offline and stop the push.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class RestreamTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ServiceProcess _gateway = null!;
    private NginxRtmpServer _ingest = null!;
    private NginxRtmpServer _twitch = null!;
    private IngestApi _api = null!;
    private string _scriptLog = null!;

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

        // "Twitch": accepts any publish on rtmp://127.0.0.1:port/app/<key>, no callbacks.
        _twitch = await NginxRtmpServer.StartAsync(
            "http://127.0.0.1:9/unused", new NginxRtmpOptions { Application = "app", Callbacks = false, ControlPort = FreePort.Next() });

        // The ingest server: the shipped script, with the arguments infra/media/nginx-rtmp.conf gives it, plus a log file.
        var script = Path.Combine(RepoPaths.Root, "infra", "media", "livegrains-restream.sh");
        _scriptLog = Path.Combine(TestDirectories.Create("restream-log"), "restream.log");
        var hook = $"{url}/v1/ingest-hooks/restream?secret={IngestApi.HookSecret}";
        _ingest = await NginxRtmpServer.StartAsync(_api.NginxHookUrl, new NginxRtmpOptions
        {
            ControlPort = controlPort,
            ExtraApplicationDirectives = $"exec_push {script} {hook} rtmp://127.0.0.1:{{rtmp_port}}/$app $name {_scriptLog};\n            exec_kill_signal term;",
        });
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        if (_ingest is not null)
        {
            await _ingest.DisposeAsync();
        }

        if (_twitch is not null)
        {
            await _twitch.DisposeAsync();
        }

        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task ALiveIsRestreamedToEachDestinationIsolatedAndEndingItTakesThemAllOffline()
    {
        var roomId = await _api.CreateRoomAsync();
        var (streamId, key) = await _api.CreateStreamAsync(roomId);
        var twitchKey = "live_" + Guid.NewGuid().ToString("N");
        var deadKey = "dead_" + Guid.NewGuid().ToString("N");
        var good = await CreateDestinationAsync(roomId, new { type = "twitch", url = $"{_twitch.RtmpBaseUrl}/", stream_key = twitchKey });
        var dead = await CreateDestinationAsync(roomId, new { type = "rtmp", url = $"rtmp://127.0.0.1:{FreePort.Next()}/app", stream_key = deadKey });
        var statusOnly = await CreateDestinationAsync(roomId, new { type = "twitch", broadcaster_id = "1234", broadcaster_login = "acme" });
        var secondKey = "live_" + Guid.NewGuid().ToString("N");
        var second = await CreateDestinationAsync(roomId, new { type = "youtube", url = _twitch.RtmpBaseUrl, stream_key = secondKey });

        await using var encoder = FfmpegPublisher.Start(_ingest.PublishUrl(key));
        var liveId = (await _api.WaitForStreamAsync(streamId, "connected", Timeout, () => Describe(encoder))).GetProperty("live_id").GetString()!;

        var online = await WaitForDestinationAsync(good, "online", () => Describe(encoder));
        Assert.Equal(liveId, online.GetProperty("live_id").GetString());
        await Eventually.TrueAsync(
            async () => await TwitchPublishesAsync(twitchKey), Timeout, $"the second nginx-rtmp receives the restream. {Describe(encoder)}",
            TimeSpan.FromMilliseconds(250));

        var failed = await WaitForDestinationAsync(dead, "error", () => Describe(encoder));
        var lastError = failed.GetProperty("last_error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(lastError));
        Assert.DoesNotContain(deadKey, lastError, StringComparison.Ordinal);
        Assert.Equal("online", (await GetDestinationAsync(good)).GetProperty("status").GetString());
        Assert.True(await TwitchPublishesAsync(twitchKey), "the good destination's push stopped when the dead one failed");
        Assert.Equal("online", (await GetDestinationAsync(statusOnly)).GetProperty("status").GetString());

        // Disabling one destination stops its push (within the script's 5 s check) and leaves the other pushing.
        await WaitForDestinationAsync(second, "online", () => Describe(encoder));
        Assert.True(await TwitchPublishesAsync(secondKey), "the second destination's push is not on the second server");
        await _api.SendAsync(HttpMethod.Patch, $"/v1/destinations/{second}", new { enabled = false });
        Assert.Equal("offline", (await GetDestinationAsync(second)).GetProperty("status").GetString());
        await Eventually.TrueAsync(
            async () => !await TwitchPublishesAsync(secondKey), Timeout, $"the disabled destination's push stops. {Describe(encoder)}",
            TimeSpan.FromMilliseconds(250));
        Assert.True(await TwitchPublishesAsync(twitchKey), "disabling one destination stopped another's push");
        Assert.Equal("online", (await GetDestinationAsync(good)).GetProperty("status").GetString());

        await _api.SendAsync(HttpMethod.Post, $"/v1/lives/{liveId}/end");
        foreach (var destination in new[] { good, dead, statusOnly })
        {
            await WaitForDestinationAsync(destination, "offline", () => Describe(encoder));
        }

        await Eventually.TrueAsync(
            async () => !await TwitchPublishesAsync(twitchKey), Timeout, $"the restream stops with the live. {Describe(encoder)}",
            TimeSpan.FromMilliseconds(250));
        Assert.DoesNotContain(twitchKey, await File.ReadAllTextAsync(_scriptLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBackupTakesOverThePushesWhenThePrimaryStopsAndDestinationChangesApplyMidLive()
    {
        var roomId = await _api.CreateRoomAsync();
        var (primaryId, primaryKey) = await _api.CreateStreamAsync(roomId);
        var (backupId, backupKey) = await _api.CreateStreamAsync(roomId, role: "backup");
        var firstKey = "live_" + Guid.NewGuid().ToString("N");
        var first = await CreateDestinationAsync(roomId, new { type = "twitch", url = _twitch.RtmpBaseUrl, stream_key = firstKey });

        await using var primary = FfmpegPublisher.Start(_ingest.PublishUrl(primaryKey));
        var liveId = (await _api.WaitForStreamAsync(primaryId, "connected", Timeout, () => Describe(primary))).GetProperty("live_id").GetString()!;
        await WaitForDestinationAsync(first, "online", () => Describe(primary));
        await using var backup = FfmpegPublisher.Start(_ingest.PublishUrl(backupKey));
        Assert.Equal(liveId, (await _api.WaitForStreamAsync(backupId, "connected", Timeout, () => Describe(backup))).GetProperty("live_id").GetString());

        // Added while live: the running restream script picks it up from its next plan, no new publish needed.
        var addedKey = "live_" + Guid.NewGuid().ToString("N");
        var added = await CreateDestinationAsync(roomId, new { type = "youtube", url = _twitch.RtmpBaseUrl, stream_key = addedKey });
        await WaitForDestinationAsync(added, "online", () => Describe(primary));
        await Eventually.TrueAsync(
            async () => await TwitchPublishesAsync(addedKey), Timeout, $"a destination added mid-live is pushed. {Describe(primary)}",
            TimeSpan.FromMilliseconds(250));
        var pushers = new[] { await TwitchPublisherAsync(firstKey), await TwitchPublisherAsync(addedKey) };
        Assert.All(pushers, Assert.NotNull);

        // The primary's encoder dies: the live stays on air through the backup, and so do the pushes, now from the
        // backup's publish (new publishers at the destination, since nginx-rtmp stopped the primary's script).
        primary.Kill();
        await _api.WaitForStreamAsync(primaryId, "reconnecting", Timeout, () => Describe(backup));
        Assert.Equal("live", (await _api.GetLiveAsync(liveId)).GetProperty("status").GetString());
        foreach (var (destination, key, before) in new[] { (first, firstKey, pushers[0]), (added, addedKey, pushers[1]) })
        {
            await Eventually.TrueAsync(
                async () => await TwitchPublisherAsync(key) is { } now && now != before, Timeout,
                $"the backup's publish is pushed to {destination} after the primary stopped. {Describe(backup)}",
                TimeSpan.FromMilliseconds(250));
        }

        foreach (var destination in new[] { first, added })
        {
            var online = await WaitForDestinationAsync(destination, "online", () => Describe(backup));
            Assert.Equal(liveId, online.GetProperty("live_id").GetString());
        }

        // Deleted while live: its push stops (the plan no longer lists it), the other goes on.
        using (var deleted = await _api.Http.DeleteAsync($"/v1/destinations/{added}"))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await Eventually.TrueAsync(
            async () => !await TwitchPublishesAsync(addedKey), Timeout, $"a deleted destination's push stops. {Describe(backup)}",
            TimeSpan.FromMilliseconds(250));
        Assert.True(await TwitchPublishesAsync(firstKey), "deleting one destination stopped another's push");

        await _api.SendAsync(HttpMethod.Post, $"/v1/lives/{liveId}/end");
        await WaitForDestinationAsync(first, "offline", () => Describe(backup));
        await Eventually.TrueAsync(
            async () => !await TwitchPublishesAsync(firstKey), Timeout, $"the restream stops with the live. {Describe(backup)}",
            TimeSpan.FromMilliseconds(250));
    }

    private async Task<string> CreateDestinationAsync(string roomId, object body) =>
        (await _api.SendAsync(HttpMethod.Post, $"/v1/rooms/{roomId}/destinations", body)).GetProperty("destination_id").GetString()!;

    private Task<System.Text.Json.JsonElement> GetDestinationAsync(string destinationId) =>
        _api.SendAsync(HttpMethod.Get, $"/v1/destinations/{destinationId}");

    private Task<System.Text.Json.JsonElement> WaitForDestinationAsync(string destinationId, string status, Func<string> context) =>
        Eventually.ValueAsync(
            () => GetDestinationAsync(destinationId),
            d => d.GetProperty("status").GetString() == status,
            Timeout,
            $"destination {destinationId} is {status}. {context()}",
            TimeSpan.FromMilliseconds(200));

    /// <summary>True while the "Twitch" server has a publisher on the stream named <paramref name="streamKey"/> (its rtmp_stat page).</summary>
    private async Task<bool> TwitchPublishesAsync(string streamKey)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var stat = XDocument.Parse(await http.GetStringAsync(_twitch.StatUrl));
        return stat.Descendants("stream").Any(s => (string?)s.Element("name") == streamKey && s.Descendants("publishing").Any());
    }

    /// <summary>The id of the client publishing <paramref name="streamKey"/> on the "Twitch" server, or null.</summary>
    private async Task<string?> TwitchPublisherAsync(string streamKey)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var stat = XDocument.Parse(await http.GetStringAsync(_twitch.StatUrl));
        return stat.Descendants("stream").Where(s => (string?)s.Element("name") == streamKey)
            .SelectMany(s => s.Elements("client")).Where(c => c.Element("publishing") is not null)
            .Select(c => (string?)c.Element("id")).FirstOrDefault();
    }

    private string Describe(FfmpegPublisher ffmpeg) =>
        $"\n--- ffmpeg ---\n{ffmpeg.Describe(20)}\n--- restream script ---\n{ReadLog()}\n--- ingest nginx ---\n{_ingest.Describe(40)}"
        + $"\n--- twitch nginx ---\n{_twitch.Describe(20)}\n--- gateway ---\n{_gateway.Output.Tail(40)}";

    private string ReadLog()
    {
        try
        {
            return File.Exists(_scriptLog) ? File.ReadAllText(_scriptLog) : "(no log yet)";
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
    }
}

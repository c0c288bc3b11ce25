using System.Net;
using System.Text.Json;
using LiveGrains.Gateway.Tests.Access;
using LiveGrains.Gateway.Tests.Webhooks;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Ingest;

/// <summary>
/// Restream destinations over HTTP through the real pipeline (docs/ingest.md "Destinations"): CRUD, validation, the
/// write-only key, tenant isolation, audit and scopes, status-only destinations following the room's lives, the media
/// server's restream hook, and the destination.* webhooks. A tenant per test (the webhook fixture's).
/// </summary>
public sealed class DestinationsHttpTests(WebhookGatewayFixture fixture) : IClassFixture<WebhookGatewayFixture>
{
    private const string HookSecret = "test-hook-secret";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly HttpClient _hooks = fixture.Factory.CreateClient();

    [Fact]
    public async Task CrudKeepsTheStreamKeyWriteOnly()
    {
        var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var key = "live_" + Guid.NewGuid().ToString("N");

        var response = await client.PostJsonAsync($"/v1/rooms/{roomId}/destinations", new
        {
            type = "twitch", url = "rtmp://live.twitch.tv/app", stream_key = key, broadcaster_id = "42", broadcaster_login = "acme",
            thumbnail_url = "https://static.example.com/t.png",
        });
        var created = await response.OkJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("destination_id").GetString()!;
        Assert.StartsWith("ds_", id, StringComparison.Ordinal);
        Assert.Equal($"/v1/destinations/{id}", response.Headers.Location!.OriginalString);
        Assert.Equal(roomId, created.GetProperty("room_id").GetString());
        Assert.Equal("twitch", created.GetProperty("type").GetString());
        Assert.Equal("offline", created.GetProperty("status").GetString());
        Assert.True(created.GetProperty("enabled").GetBoolean());
        Assert.True(created.GetProperty("has_stream_key").GetBoolean());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("last_error").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, created.GetProperty("status_at").ValueKind);
        Assert.False(created.TryGetProperty("stream_key", out _));

        var read = await (await client.GetAsync($"/v1/destinations/{id}")).OkJsonAsync();
        Assert.Equal("acme", read.GetProperty("broadcaster_login").GetString());
        var listText = await (await client.GetAsync($"/v1/rooms/{roomId}/destinations")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(key, listText, StringComparison.Ordinal);
        var list = JsonDocument.Parse(listText).RootElement;
        Assert.Equal(id, Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("destination_id").GetString());

        var patched = await (await client.SendAsync(HttpMethod.Patch, $"/v1/destinations/{id}", """{"url":"rtmps://live.twitch.tv:443/app","enabled":false}"""))
            .OkJsonAsync();
        Assert.Equal("rtmps://live.twitch.tv:443/app", patched.GetProperty("url").GetString());
        Assert.False(patched.GetProperty("enabled").GetBoolean());
        Assert.True(patched.GetProperty("has_stream_key").GetBoolean());
        var cleared = await (await client.SendAsync(HttpMethod.Patch, $"/v1/destinations/{id}", """{"url":"","stream_key":""}""")).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("url").ValueKind);
        Assert.False(cleared.GetProperty("has_stream_key").GetBoolean());

        using var deleted = await client.SendAsync(HttpMethod.Delete, $"/v1/destinations/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await client.GetAsync($"/v1/destinations/{id}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await (await client.GetAsync($"/v1/rooms/{roomId}/destinations")).OkJsonAsync()).GetProperty("items").EnumerateArray());
    }

    [Theory]
    [InlineData("""{}""", "type")]
    [InlineData("""{"type":"facebook"}""", "type")]
    [InlineData("""{"type":"rtmp"}""", "url")]
    [InlineData("""{"type":"twitch","url":"http://live.twitch.tv/app"}""", "url")]
    [InlineData("""{"type":"twitch","url":"rtmp:///app"}""", "url")]
    [InlineData("""{"type":"twitch","url":"rtmp://live.twitch.tv/app?x=1"}""", "url")]
    [InlineData("""{"type":"twitch","url":"rtmp://live.twitch.tv/a pp"}""", "url")]
    [InlineData("""{"type":"twitch","url":"rtmp://user:pw@live.twitch.tv/app"}""", "url")]
    [InlineData("""{"type":"twitch","url":"rtmp://live.twitch.tv/app","stream_key":"has space"}""", "stream_key")]
    [InlineData("""{"type":"twitch","url":"rtmp://live.twitch.tv/app","stream_key":""}""", "stream_key")]
    [InlineData("""{"type":"twitch","thumbnail_url":"ftp://example.com/t.png"}""", "thumbnail_url")]
    [InlineData("""{"type":"twitch","broadcaster_login":"\u0001"}""", "broadcaster_login")]
    public async Task CreateRefusesBadInputWithFieldErrors(string body, string field)
    {
        var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        await (await client.PostAsync($"/v1/rooms/{roomId}/destinations", body)).ValidationProblemAsync(field);
    }

    [Fact]
    public async Task LongFieldsBadIdsAndBadPatchesAreFieldErrorsAndAMissingRoomIsNotFound()
    {
        var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var longUrl = "rtmp://live.twitch.tv/" + new string('a', 1_100);
        await (await client.PostJsonAsync($"/v1/rooms/{roomId}/destinations", new { type = "twitch", url = longUrl })).ValidationProblemAsync("url");
        await (await client.PostJsonAsync($"/v1/rooms/{roomId}/destinations", new { type = "twitch", stream_key = new string('k', 513) }))
            .ValidationProblemAsync("stream_key");
        await (await client.PostJsonAsync($"/v1/rooms/{roomId}/destinations", new { type = "twitch", broadcaster_id = new string('b', 129) }))
            .ValidationProblemAsync("broadcaster_id");
        await (await client.GetAsync("/v1/destinations/nope")).ValidationProblemAsync("destination_id");
        await (await client.SendAsync(HttpMethod.Delete, "/v1/destinations/nope")).ValidationProblemAsync("destination_id");
        await (await client.SendAsync(HttpMethod.Patch, "/v1/destinations/nope", "{}")).ValidationProblemAsync("destination_id");

        var id = await CreateAsync(client, roomId, new { type = "youtube" });
        await (await client.SendAsync(HttpMethod.Patch, $"/v1/destinations/{id}", """{"url":"udp://x"}""")).ValidationProblemAsync("url");
        await (await client.PostJsonAsync("/v1/rooms/no-such-room/destinations", new { type = "twitch" })).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.GetAsync("/v1/rooms/no-such-room/destinations")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AnotherTenantGetsNotFoundForEverything()
    {
        var owner = fixture.NewTenantClient();
        var other = fixture.NewTenantClient();
        var roomId = await owner.CreateRoomAsync();
        var id = await CreateAsync(owner, roomId, new { type = "twitch", url = "rtmp://live.twitch.tv/app", stream_key = "k1" });

        await (await other.GetAsync($"/v1/destinations/{id}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await other.SendAsync(HttpMethod.Patch, $"/v1/destinations/{id}", """{"enabled":false}""")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await other.SendAsync(HttpMethod.Delete, $"/v1/destinations/{id}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await other.GetAsync($"/v1/rooms/{roomId}/destinations")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await other.PostJsonAsync($"/v1/rooms/{roomId}/destinations", new { type = "twitch" })).ProblemAsync(HttpStatusCode.NotFound, "not_found");

        var unchanged = await (await owner.GetAsync($"/v1/destinations/{id}")).OkJsonAsync();
        Assert.True(unchanged.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task ControlActionsAreAuditedAndAReadKeyMayOnlyRead()
    {
        var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var id = await CreateAsync(client, roomId, new { type = "twitch" });
        using var patched = await client.SendAsync(HttpMethod.Patch, $"/v1/destinations/{id}", """{"broadcaster_login":"acme"}""");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        var audit = await Eventually.ValueAsync(
            async () => await (await client.GetAsync($"/v1/audit?resource={id}")).OkJsonAsync(),
            page => page.GetProperty("items").GetArrayLength() >= 2,
            Deadline,
            "the destination's create and update are in the audit log");
        var actions = audit.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("create_destination", actions);
        Assert.Contains("update_destination", actions);

        var reader = fixture.Factory.Client((await client.CreateKeyAsync("read")).Secret);
        await (await reader.PostJsonAsync($"/v1/rooms/{roomId}/destinations", new { type = "twitch" })).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await reader.SendAsync(HttpMethod.Delete, $"/v1/destinations/{id}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await reader.GetAsync($"/v1/destinations/{id}")).OkJsonAsync();
    }

    [Fact]
    public async Task AStatusOnlyDestinationIsOnlineExactlyWhileALiveIsOnAirWithWebhooks()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        await client.SubscribeAsync(receiver, ["destination.online", "destination.offline", "destination.error"]);
        var roomId = await client.CreateRoomAsync();
        var id = await CreateAsync(client, roomId, new { type = "twitch", broadcaster_id = "42", broadcaster_login = "acme" });
        Assert.Equal("offline", await StatusAsync(client, id));

        var liveId = await GoLiveIdAsync(client, roomId);
        Assert.Equal("online", await StatusAsync(client, id)); // same write as the go-live: no waiting
        Assert.Equal(liveId, (await (await client.GetAsync($"/v1/destinations/{id}")).OkJsonAsync()).GetProperty("live_id").GetString());

        // Paused is still on air (within the reconnect window): Fourthwall's service stays ONLINE.
        await (await client.PostAsync($"/v1/lives/{liveId}/pause", "{}")).OkJsonAsync();
        Assert.Equal("online", await StatusAsync(client, id));

        // A superseding go-live keeps it online (one live ends, the next is on air in the same write).
        var nextLiveId = await GoLiveIdAsync(client, roomId);
        Assert.Equal("online", await StatusAsync(client, id));
        await (await client.PostAsync($"/v1/lives/{nextLiveId}/end", "{}")).OkJsonAsync();
        Assert.Equal("offline", await StatusAsync(client, id));

        // Created while a live is on air: online at once; disabled: offline.
        var onAir = await GoLiveIdAsync(client, roomId);
        var late = await CreateAsync(client, roomId, new { type = "youtube" });
        Assert.Equal("online", await StatusAsync(client, late));
        await (await client.SendAsync(HttpMethod.Patch, $"/v1/destinations/{late}", """{"enabled":false}""")).OkJsonAsync();
        Assert.Equal("offline", await StatusAsync(client, late));
        await (await client.PostAsync($"/v1/lives/{onAir}/end", "{}")).OkJsonAsync();

        await Eventually.TrueAsync(
            () => receiver.Acked.Count(r => r.Resource == "destination:" + id) >= 4, Deadline, "destination webhooks of the first destination arrive");
        var events = receiver.Acked.Where(r => r.Resource == "destination:" + id).OrderBy(r => r.Sequence).ToList();
        Assert.Equal(["destination.online", "destination.offline", "destination.online", "destination.offline"], events.Select(e => e.Type));
        Assert.Equal([1L, 2L, 3L, 4L], events.Select(e => e.Sequence));
        Assert.Equal(id, events[0].Data.GetProperty("destination_id").GetString());
        Assert.Equal("online", events[0].Data.GetProperty("status").GetString());
        Assert.Empty(receiver.OrderViolations());
    }

    [Fact]
    public async Task TheRestreamHookGivesThePushesToTheKeyHolderAndAppliesTheirStatus()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        await client.SubscribeAsync(receiver, ["destination.online", "destination.offline", "destination.error"]);
        var roomId = await client.CreateRoomAsync();
        var (streamId, key) = await CreateStreamAsync(client, roomId);
        var (_, backupKey) = await CreateStreamAsync(client, roomId);
        var twitchKey = "live_" + Guid.NewGuid().ToString("N");
        var good = await CreateAsync(client, roomId, new { type = "twitch", url = "rtmp://127.0.0.1:1935/app/", stream_key = twitchKey });
        var bad = await CreateAsync(client, roomId, new { type = "rtmp", url = "rtmp://127.0.0.1:9/app", stream_key = "dead-key-123" });
        await CreateAsync(client, roomId, new { type = "twitch" }); // status only: never pushed
        await CreateAsync(client, roomId, new { type = "rtmp", url = "rtmp://127.0.0.1:9/off", enabled = false });

        // Before the publish: the stream is not connected yet, the script is to ask again.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await RestreamAsync(new() { ["call"] = "plan", ["name"] = key })).Status);
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(key, "1"));
        var liveId = (await (await client.GetAsync($"/v1/streams/{streamId}")).OkJsonAsync()).GetProperty("live_id").GetString()!;

        var plan = await RestreamAsync(new() { ["call"] = "plan", ["name"] = key });
        Assert.Equal(HttpStatusCode.OK, plan.Status);
        var lines = plan.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal([good, "1", liveId, $"rtmp://127.0.0.1:1935/app/{twitchKey}"], lines[0]);
        Assert.Equal([bad, "1", liveId, "rtmp://127.0.0.1:9/app/dead-key-123"], lines[1]);

        // Not the key holder: a wrong secret, a wrong key, a backup feed (no second copy).
        using (var noSecret = await _hooks.PostAsync("/v1/ingest-hooks/restream?secret=wrong", new FormUrlEncodedContent(new Dictionary<string, string> { ["call"] = "plan", ["name"] = key })))
        {
            Assert.Equal(HttpStatusCode.Forbidden, noSecret.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await RestreamAsync(new() { ["call"] = "plan", ["name"] = streamId + ".0000" })).Status);
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(backupKey, "2"));
        Assert.Equal("", (await RestreamAsync(new() { ["call"] = "plan", ["name"] = backupKey })).Body);

        Assert.Equal("push", (await ReportAsync(key, good, liveId, "online")).Body);
        Assert.Equal("push", (await ReportAsync(key, bad, liveId, "error", "rtmp://127.0.0.1:9/app/dead-key-123: Connection refused")).Body);
        var online = await (await client.GetAsync($"/v1/destinations/{good}")).OkJsonAsync();
        Assert.Equal("online", online.GetProperty("status").GetString());
        Assert.Equal(liveId, online.GetProperty("live_id").GetString());
        var failed = await (await client.GetAsync($"/v1/destinations/{bad}")).OkJsonAsync();
        Assert.Equal("error", failed.GetProperty("status").GetString());
        Assert.Equal("rtmp://127.0.0.1:9/app/***: Connection refused", failed.GetProperty("last_error").GetString());
        await (await RestreamAsync(new() { ["call"] = "status", ["name"] = key, ["status"] = "on" })).Problem.ValidationProblemAsync("status");

        // The live ends: both offline in the end's write; a late report of that live's push is told to stop.
        await (await client.PostAsync($"/v1/lives/{liveId}/end", "{}")).OkJsonAsync();
        Assert.Equal("offline", await StatusAsync(client, good));
        Assert.Equal("offline", await StatusAsync(client, bad));
        Assert.Equal("stop", (await ReportAsync(key, good, liveId, "online")).Body);
        Assert.Equal("offline", await StatusAsync(client, good));

        // The status-only destination sends its own online/offline too: wait for the two pushed destinations' events each.
        await Eventually.TrueAsync(
            () => receiver.Acked.Count(r => r.Resource == "destination:" + good) >= 2 && receiver.Acked.Count(r => r.Resource == "destination:" + bad) >= 2,
            Deadline, "destination webhooks arrive");
        var received = receiver.Acked.Where(r => r.Resource.StartsWith("destination:", StringComparison.Ordinal)).ToList();
        Assert.Equal(["destination.online", "destination.offline"], received.Where(r => r.Resource == "destination:" + good).OrderBy(r => r.Sequence).Select(r => r.Type));
        Assert.Equal(["destination.error", "destination.offline"], received.Where(r => r.Resource == "destination:" + bad).OrderBy(r => r.Sequence).Select(r => r.Type));
        Assert.All(received, r => Assert.DoesNotContain("dead-key-123", r.Data.ToString(), StringComparison.Ordinal));
        Assert.All(received, r => Assert.DoesNotContain(twitchKey, r.Data.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task GivingAStatusOnlyDestinationAUrlMidLiveTakesItOfflineUntilItsPushReports()
    {
        var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var (streamId, key) = await CreateStreamAsync(client, roomId);
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(key, "7"));
        var liveId = (await (await client.GetAsync($"/v1/streams/{streamId}")).OkJsonAsync()).GetProperty("live_id").GetString()!;
        var id = await CreateAsync(client, roomId, new { type = "twitch" });
        Assert.Equal("online", await StatusAsync(client, id));

        var patched = await (await client.SendAsync(HttpMethod.Patch, $"/v1/destinations/{id}", """{"url":"rtmp://127.0.0.1:1935/app","stream_key":"k-1"}"""))
            .OkJsonAsync();
        Assert.Equal("offline", patched.GetProperty("status").GetString());

        // A push of the old settings (revision 1) no longer counts; one of the new settings (revision 2) does.
        Assert.Equal("stop", (await ReportAsync(key, id, liveId, "online")).Body);
        Assert.Equal("offline", await StatusAsync(client, id));
        var plan = await RestreamAsync(new() { ["call"] = "plan", ["name"] = key });
        Assert.Equal($"{id}\t2\t{liveId}\trtmp://127.0.0.1:1935/app/k-1\n", plan.Body);
        var report = await RestreamAsync(new()
        {
            ["call"] = "status", ["name"] = key, ["destination_id"] = id, ["revision"] = "2", ["live_id"] = liveId, ["status"] = "online",
        });
        Assert.Equal("push", report.Body);
        Assert.Equal("online", await StatusAsync(client, id));
    }

    [Fact]
    public async Task TheBackupTakesOverThePushesWhenThePrimaryStopsPublishingAndKeepsThem()
    {
        var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var (primaryId, primaryKey) = await CreateStreamAsync(client, roomId);
        var (_, backupKey) = await CreateStreamAsync(client, roomId);
        var id = await CreateAsync(client, roomId, new { type = "twitch", url = "rtmp://127.0.0.1:1935/app", stream_key = "k-9" });
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(primaryKey, "1"));
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(backupKey, "2"));
        var liveId = (await (await client.GetAsync($"/v1/streams/{primaryId}")).OkJsonAsync()).GetProperty("live_id").GetString()!;
        var line = $"{id}\t1\t{liveId}\trtmp://127.0.0.1:1935/app/k-9\n";
        Assert.Equal(line, (await RestreamAsync(new() { ["call"] = "plan", ["name"] = primaryKey })).Body);
        Assert.Equal("", (await RestreamAsync(new() { ["call"] = "plan", ["name"] = backupKey })).Body);
        Assert.Equal("push", (await ReportAsync(primaryKey, id, liveId, "online")).Body);
        Assert.Equal("stop", (await ReportAsync(backupKey, id, liveId, "online")).Body); // a backup's push is a second copy

        // The primary's encoder goes: the live stays on air through the backup, whose restream script (asking every few
        // seconds) now gets the pushes. The primary script's last "offline" no longer counts: the push goes on from the backup.
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(primaryKey, "1", "publish_done"));
        Assert.Equal("live", (await (await client.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync()).GetProperty("status").GetString());
        Assert.Equal(line, (await RestreamAsync(new() { ["call"] = "plan", ["name"] = backupKey })).Body);
        Assert.Equal("stop", (await ReportAsync(primaryKey, id, liveId, "offline")).Body);
        Assert.Equal("online", await StatusAsync(client, id));
        Assert.Equal("push", (await ReportAsync(backupKey, id, liveId, "online")).Body);

        // The primary comes back: the backup keeps the pushes (one publisher per key at the destination; no second cut).
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(primaryKey, "3"));
        Assert.Equal("", (await RestreamAsync(new() { ["call"] = "plan", ["name"] = primaryKey })).Body);
        Assert.Equal(line, (await RestreamAsync(new() { ["call"] = "plan", ["name"] = backupKey })).Body);
        Assert.Equal("online", await StatusAsync(client, id));
    }

    [Fact]
    public async Task SrsForwardBackendAnswersThePushUrlsOfThePushingFeed()
    {
        var client = fixture.NewTenantClient();
        var roomId = await client.CreateRoomAsync();
        var (_, primaryKey) = await CreateStreamAsync(client, roomId);
        var (_, backupKey) = await CreateStreamAsync(client, roomId);
        await CreateAsync(client, roomId, new { type = "twitch", url = "rtmp://127.0.0.1:1935/app", stream_key = "k-1" });
        await CreateAsync(client, roomId, new { type = "youtube", url = "rtmp://127.0.0.1:1936/live2/", stream_key = "k-2" });
        await CreateAsync(client, roomId, new { type = "rtmp", url = "rtmp://127.0.0.1:9/off", enabled = false });
        await CreateAsync(client, roomId, new { type = "twitch" }); // status only

        Assert.Equal("0", await (await SrsAsync("on_publish", primaryKey)).Content.ReadAsStringAsync());
        Assert.Equal("0", await (await SrsAsync("on_publish", backupKey)).Content.ReadAsStringAsync());
        var forward = await (await SrsAsync("on_forward", primaryKey)).OkJsonAsync();
        Assert.Equal(0, forward.GetProperty("code").GetInt32());
        Assert.Equal(
            ["rtmp://127.0.0.1:1935/app/k-1", "rtmp://127.0.0.1:1936/live2/k-2"],
            forward.GetProperty("data").GetProperty("urls").EnumerateArray().Select(u => u.GetString()));

        // A backup's publish, a key that is not the stream's: no urls, but never an error (SRS would fail the publish).
        foreach (var key in new[] { backupKey, primaryKey[..^4] + "0000", "livestream" })
        {
            var none = await (await SrsAsync("on_forward", key)).OkJsonAsync();
            Assert.Equal(0, none.GetProperty("code").GetInt32());
            Assert.Empty(none.GetProperty("data").GetProperty("urls").EnumerateArray());
        }

        using var wrongSecret = await SrsAsync("on_forward", primaryKey, "wrong");
        Assert.Equal(HttpStatusCode.Forbidden, wrongSecret.StatusCode);
    }

    private Task<HttpResponseMessage> SrsAsync(string action, string key, string secret = HookSecret) =>
        _hooks.PostAsync($"/v1/ingest-hooks/srs?secret={secret}", new StringContent(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["action"] = action, ["server_id"] = "vid-k21d7y2", ["service_id"] = "plw1ab1d", ["client_id"] = "9o7g1330",
            ["ip"] = "127.0.0.1", ["vhost"] = "__defaultVhost__", ["app"] = "live", ["tcUrl"] = "rtmp://127.0.0.1:1935/live",
            ["stream"] = key, ["param"] = "",
        }), System.Text.Encoding.UTF8, "application/json"));

    private static async Task<string> CreateAsync(HttpClient client, string roomId, object body) =>
        (await (await client.PostJsonAsync($"/v1/rooms/{roomId}/destinations", body)).OkJsonAsync(HttpStatusCode.Created)).GetProperty("destination_id").GetString()!;

    private static async Task<string> GoLiveIdAsync(HttpClient client, string roomId) =>
        (await HttpTestKit.GoLiveAsync(client, roomId)).GetProperty("live").GetProperty("live_id").GetString()!;

    private static async Task<string> StatusAsync(HttpClient client, string id) =>
        (await (await client.GetAsync($"/v1/destinations/{id}")).OkJsonAsync()).GetProperty("status").GetString()!;

    private static async Task<(string StreamId, string Key)> CreateStreamAsync(HttpClient client, string roomId)
    {
        var stream = await (await client.PostJsonAsync("/v1/streams", new { room_id = roomId })).OkJsonAsync(HttpStatusCode.Created);
        return (stream.GetProperty("stream_id").GetString()!, stream.GetProperty("stream_key").GetString()!);
    }

    private async Task<HttpStatusCode> PublishAsync(string key, string clientId, string call = "publish")
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = clientId,
        });
        using var response = await _hooks.PostAsync($"/v1/ingest-hooks/nginx-rtmp?secret={HookSecret}", content);
        return response.StatusCode;
    }

    private Task<HookAnswer> ReportAsync(string key, string destinationId, string liveId, string status, string? error = null) =>
        RestreamAsync(new()
        {
            ["call"] = "status", ["name"] = key, ["destination_id"] = destinationId, ["revision"] = "1", ["live_id"] = liveId,
            ["status"] = status, ["error"] = error ?? "",
        });

    private async Task<HookAnswer> RestreamAsync(Dictionary<string, string> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        var response = await _hooks.PostAsync($"/v1/ingest-hooks/restream?secret={HookSecret}", content);
        return new HookAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private sealed record HookAnswer(HttpStatusCode Status, string Body, HttpResponseMessage Problem);
}

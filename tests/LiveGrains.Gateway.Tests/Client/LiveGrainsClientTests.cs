using System.Net;
using System.Text;
using LiveGrains.Client;
using LiveGrains.Grains.Webhooks;
using Microsoft.Extensions.Time.Testing;

namespace LiveGrains.Gateway.Tests.Client;

/// <summary>The typed client against the real gateway pipeline: every operation group, errors, retries, the event stream.</summary>
[Collection(GatewayCollection.Name)]
public sealed class LiveGrainsClientTests(GatewayFactory factory)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RoomsAndLivesRunTheirWholeLifecycleThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-room");

        var room = await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId, Title: "Client", Metadata: new Dictionary<string, string> { ["Tier"] = "gold" }));
        Assert.Equal(roomId, room.RoomId);
        Assert.Equal("takeover", room.TakeoverPolicy);
        Assert.Equal("gold", room.Metadata!["Tier"]);
        Assert.Equal("reject", (await client.UpdateRoomAsync(roomId, new UpdateRoomRequest(TakeoverPolicy: "reject"))).TakeoverPolicy);
        Assert.Equal("Client", (await client.GetRoomAsync(roomId)).Title);

        var scheduled = await client.ScheduleLiveAsync(roomId, new ScheduleLiveRequest(Title: "Later"));
        Assert.Equal("scheduled", scheduled.Status);
        Assert.Equal("ready", (await client.ReadyAsync(scheduled.LiveId, by: "ops")).Status);
        Assert.Equal("live", (await client.StartAsync(scheduled.LiveId, by: "ops")).Status);
        var busy = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.GoLiveAsync(roomId));
        Assert.Equal("live_already_active", busy.Code);

        Assert.Equal("paused", (await client.PauseAsync(scheduled.LiveId, by: "host")).Status);
        Assert.Equal("live", (await client.ResumeAsync(scheduled.LiveId, by: "host")).Status);
        Assert.Equal("Renamed", (await client.UpdateLiveAsync(scheduled.LiveId, new UpdateLiveRequest(Title: "Renamed"))).Title);
        var ended = await client.EndAsync(scheduled.LiveId, by: "host");
        Assert.Equal(("ended", "ended", "host"), (ended.Status, ended.EndReason, ended.EndedBy));

        var transitions = await client.GetTransitionsAsync(scheduled.LiveId);
        Assert.Equal(["scheduled", "ready", "live", "paused", "live", "ended"], transitions.Select(t => t.To));
        Assert.Null(transitions[0].From);
        Assert.Equal(("ops", "host"), (transitions[1].By, transitions[3].By));

        var second = await client.GoLiveAsync(roomId, new GoLiveRequest(Title: "Again", StartedBy: "alice"));
        Assert.Null(second.ClosedLive);
        Assert.Equal(second.Live.LiveId, (await client.GetLiveAsync(second.Live.LiveId)).LiveId);
        Assert.Equal([second.Live.LiveId, scheduled.LiveId], (await client.ListRoomLivesAsync(roomId)).Items.Select(l => l.LiveId));

        await Eventually(async () =>
        {
            var live = await client.ListLivesAsync(new LiveQuery(Status: ["live", "paused"], RoomId: roomId));
            return live.Items.Count == 1 && live.Items[0].LiveId == second.Live.LiveId;
        });
        await Eventually(async () => (await client.ListRoomsAsync(limit: 100)).Items.Any(r => r.RoomId == roomId));

        await client.EndAsync(second.Live.LiveId);
        await client.DeleteRoomAsync(roomId);
        var gone = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.GetRoomAsync(roomId));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (gone.Status, gone.Code));
    }

    [Fact]
    public async Task ViewerActivityAndStatisticsGoThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-stats");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var liveId = (await client.GoLiveAsync(roomId)).Live.LiveId;

        await client.JoinAsync(liveId, "ann");
        await client.HeartbeatAsync(liveId, "ann");
        await client.JoinAsync(liveId, "bob");
        await client.LeaveAsync(liveId, "bob");
        // Accepted counts every item of the batch: 2 joins, 5 likes, 2 chat messages.
        Assert.Equal(9, (await client.RecordActivityAsync(liveId, new ActivityBatch(Joins: ["cat", "dan"], Likes: 5, ChatMessages: 2))).Accepted);
        await client.LikeAsync(liveId, 3);
        await client.CountChatMessagesAsync(liveId);

        await Eventually(async () =>
        {
            var stats = await client.GetStatsAsync(liveId);
            return stats is { ViewerCount: 3, UniqueViewerCount: 4, LikeCount: 8, ChatMessageCount: 3 };
        });
    }

    [Fact]
    public async Task TheLiveEventStreamIsAnAsyncSequenceOfStatusAndStats()
    {
        await using var running = new RunningClock(factory.Time); // stats follow each other a second of the clock apart
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-events");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var liveId = (await client.GoLiveAsync(roomId)).Live.LiveId;

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<LiveEvent>();
        await using var events = client.StreamEventsAsync(liveId, cancel.Token).GetAsyncEnumerator(cancel.Token);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(("status", "live"), (events.Current.Event, events.Current.Live?.Status));
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(0, events.Current.Stats?.ViewerCount);

        await client.JoinAsync(liveId, "v1");
        await client.JoinAsync(liveId, "v2");
        await client.PauseAsync(liveId, by: "host");
        var sawStats = false;
        var sawPause = false;
        while (!(sawStats && sawPause) && await events.MoveNextAsync())
        {
            sawStats |= events.Current.Stats?.ViewerCount == 2;
            sawPause |= events.Current is { Event: "status", Live.Status: "paused", Live.PausedBy: "host" };
        }

        Assert.True(sawStats && sawPause, "a stats event with both viewers and the pause's status event");
        await cancel.CancelAsync();
    }

    [Fact]
    public async Task StreamsAreCreatedListedToggledAndRotatedThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-streams");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));

        var stream = await client.CreateStreamAsync(new CreateStreamRequest(roomId, ReconnectWindowSeconds: 30));
        Assert.False(string.IsNullOrEmpty(stream.StreamKey));
        Assert.Equal(("idle", true, 30), (stream.Status, stream.Enabled, stream.ReconnectWindowSeconds));
        Assert.Null((await client.GetStreamAsync(stream.StreamId)).StreamKey);
        Assert.Equal([stream.StreamId], (await client.ListRoomStreamsAsync(roomId)).Items.Select(s => s.StreamId));
        await Eventually(async () => (await client.ListStreamsAsync(roomId: roomId)).Items.Any(s => s.StreamId == stream.StreamId));

        Assert.False((await client.DisableStreamAsync(stream.StreamId)).Enabled);
        Assert.True((await client.EnableStreamAsync(stream.StreamId)).Enabled);
        var rotated = await client.RotateStreamKeyAsync(stream.StreamId);
        Assert.NotEqual(stream.StreamKey, rotated.StreamKey);
        Assert.Equal(stream.KeyVersion + 1, rotated.KeyVersion);

        // Recording needs a connected publisher: the client surfaces the gateway's refusal as a typed error.
        var refused = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.StartRecordingAsync(stream.StreamId));
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.False(string.IsNullOrEmpty(refused.Code));
        // Stopping when nothing records is a no-op that answers the stream.
        Assert.False((await client.StopRecordingAsync(stream.StreamId)).RecordingActive);
    }

    [Fact]
    public async Task WebhooksAndTheirDeliveryLogGoThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var hook = await client.CreateWebhookAsync(new CreateWebhookRequest("http://127.0.0.1:9/client-hook", Events: ["live.started"], Description: "client"));
        Assert.StartsWith("whsec_", hook.Secret, StringComparison.Ordinal);
        Assert.Null((await client.GetWebhookAsync(hook.WebhookId)).Secret);
        Assert.Contains(await client.ListWebhooksAsync(), w => w.WebhookId == hook.WebhookId);
        Assert.False((await client.DisableWebhookAsync(hook.WebhookId)).Enabled);
        Assert.True((await client.EnableWebhookAsync(hook.WebhookId)).Enabled);
        var rotated = await client.RotateWebhookSecretAsync(hook.WebhookId);
        Assert.NotEqual(hook.Secret, rotated.Secret);

        var test = await client.TestWebhookAsync(hook.WebhookId);
        Assert.Equal("webhook.test", test.Type);
        var deliveries = await client.ListDeliveriesAsync(hook.WebhookId);
        Assert.Contains(deliveries.Items, d => d.EventId == test.EventId);
        var again = await client.RedeliverAsync(hook.WebhookId, test.EventId);
        Assert.Equal(test.EventId, again.EventId);

        await client.DeleteWebhookAsync(hook.WebhookId);
        var gone = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.GetWebhookAsync(hook.WebhookId));
        Assert.Equal("not_found", gone.Code);
    }

    [Fact]
    public async Task ApiKeysTokensAndTheAuditLogGoThroughTheClient()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;
        var roomId = Http.Unique("client-access");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));

        var key = await client.CreateApiKeyAsync(new CreateApiKeyRequest("client-test", ["write"]));
        Assert.StartsWith("lgsk_", key.Secret, StringComparison.Ordinal);
        Assert.Contains(await client.ListApiKeysAsync(), k => k.KeyId == key.KeyId && k.Scopes.SequenceEqual(["write"]));

        var token = await client.CreateTokenAsync(new CreateTokenRequest("alice", new TokenGrants(Room: roomId, Host: true), TtlSeconds: 600, KeyId: key.KeyId));
        Assert.Equal(("alice", key.KeyId), (token.Sub, token.KeyId));
        using (var host = new ClientKit(factory, token.Token))
        {
            Assert.Equal(roomId, (await host.Client.GetRoomAsync(roomId)).RoomId);
            var forbidden = await Assert.ThrowsAsync<LiveGrainsApiException>(() => host.Client.ListRoomsAsync());
            Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (forbidden.Status, forbidden.Code));
        }

        await client.DeleteApiKeyAsync(key.KeyId);
        Assert.DoesNotContain(await client.ListApiKeysAsync(), k => k.KeyId == key.KeyId);

        // The audit is written behind the answers (each gateway sends its entries every 50 ms; docs/access.md): poll.
        var audit = await LiveGrains.Testing.Eventually.ValueAsync(
            () => client.ListAuditAsync(new AuditQuery(Resource: roomId)),
            page => page.Items.Any(e => e.Resource == roomId && e.Outcome is not null && e.Actor.Type == "key"),
            TimeSpan.FromSeconds(10),
            "the room's control actions in the audit log");
        Assert.Contains(audit.Items, e => e.Resource == roomId && e.Outcome is not null && e.Actor.Type == "key");
    }

    [Fact]
    public async Task ErrorsArriveAsTypedExceptionsWithTheProblemCodeAndFieldErrors()
    {
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey);
        var client = kit.Client;

        var invalid = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.CreateRoomAsync(new CreateRoomRequest(RoomId: "not valid!", ReconnectWindowSeconds: -1)));
        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (invalid.Status, invalid.Code));
        Assert.Contains("room_id", invalid.Errors.Keys);
        Assert.Contains("reconnect_window_seconds", invalid.Errors.Keys);
        Assert.NotEmpty(invalid.Errors["room_id"]);
        Assert.False(string.IsNullOrEmpty(invalid.Title));

        var roomId = Http.Unique("client-errors");
        await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));
        var liveId = (await client.GoLiveAsync(roomId)).Live.LiveId;
        await client.EndAsync(liveId);
        var transition = await Assert.ThrowsAsync<LiveGrainsApiException>(() => client.PauseAsync(liveId));
        Assert.Equal((HttpStatusCode.Conflict, "invalid_transition"), (transition.Status, transition.Code));
        Assert.False(string.IsNullOrEmpty(transition.Detail));

        // Another tenant's room does not exist for Globex.
        using var globex = new ClientKit(factory, GatewayFactory.GlobexKey);
        var other = await Assert.ThrowsAsync<LiveGrainsApiException>(() => globex.Client.GetRoomAsync(roomId));
        Assert.Equal("not_found", other.Code);

        using var stranger = new ClientKit(factory, "not-a-key");
        var unauthorized = await Assert.ThrowsAsync<LiveGrainsApiException>(() => stranger.Client.GetRoomAsync(roomId));
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthorized"), (unauthorized.Status, unauthorized.Code));
    }

    [Fact]
    public async Task APostWhoseAnswerWasLostIsRetriedWithTheSameIdempotencyKeyAndAppliedOnce()
    {
        var lossy = new LossyHandler { Matches = r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath.EndsWith("/go-live", StringComparison.Ordinal) };
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey, () => lossy);
        var roomId = Http.Unique("client-retry");
        await kit.Client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId));

        // The first attempt goes live and its answer is lost; the retry must not supersede it with a second live.
        var result = await kit.Client.GoLiveAsync(roomId, new GoLiveRequest(Title: "Once"));

        var attempts = lossy.Attempts.ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.NotNull(attempts[0].IdempotencyKey);
        Assert.Equal(attempts[0].IdempotencyKey, attempts[1].IdempotencyKey);
        Assert.Null(result.ClosedLive);
        var lives = await kit.Client.ListRoomLivesAsync(roomId);
        Assert.Equal([result.Live.LiveId], lives.Items.Select(l => l.LiveId));
        Assert.Equal(result.Live.LiveId, (await kit.Client.GetRoomAsync(roomId)).ActiveLiveId);
    }

    [Fact]
    public async Task OnlyRequestsThatCannotApplyTwiceAreResent()
    {
        var lossy = new LossyHandler { NeverForward = true, Matches = r => r.RequestUri!.AbsolutePath.StartsWith("/v1/rooms/never-", StringComparison.Ordinal) };
        using var kit = new ClientKit(factory, GatewayFactory.AcmeKey, () => lossy);

        // A POST without an Idempotency-Key (not one the client makes) is sent once and its failure surfaces.
        using (var response = await kit.RawHttp.PostAsync("v1/rooms/never-a/go-live", new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.Single(lossy.Attempts);

        // A GET is safe: it is resent (1 + 3 attempts) before the failure surfaces as a typed error.
        var failure = await Assert.ThrowsAsync<LiveGrainsApiException>(() => kit.Client.GetRoomAsync("never-b"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failure.Status);
        Assert.Equal(1 + 4, lossy.Attempts.Count);

        Assert.False(LiveGrainsClientServiceCollectionExtensions.IsSafeToResend(new HttpRequestMessage(HttpMethod.Patch, "v1/rooms/x")));
        var keyed = new HttpRequestMessage(HttpMethod.Post, "v1/rooms");
        keyed.Headers.Add(LiveGrainsClient.IdempotencyKeyHeader, "k1");
        Assert.True(LiveGrainsClientServiceCollectionExtensions.IsSafeToResend(keyed));
    }

    [Fact]
    public void TheWebhookVerifierAcceptsTheGatewaysSignatureAndRefusesTamperedOrExpiredOnes()
    {
        var secret = WebhookSigner.NewSecret();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var verifier = new WebhookSignatureVerifier(secret, TimeSpan.FromMinutes(5), time);
        var body = Encoding.UTF8.GetBytes("""{"type":"live.started","timestamp":"2026-01-01T00:00:00.000Z","data":{"live_id":"lv_1.r"}}""");
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var signature = WebhookSigner.Sign(secret, "evt_1", timestamp, body);
        var stamp = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture);

        verifier.Verify("evt_1", stamp, signature, body);
        verifier.Verify("evt_1", stamp, "v1,AAAA " + signature, body); // one of several (a rotated secret's) matches
        Assert.True(verifier.IsValid(h => h switch { "webhook-id" => "evt_1", "webhook-timestamp" => stamp, _ => signature }, body));

        var tampered = (byte[])body.Clone();
        tampered[^3] ^= 1;
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify("evt_1", stamp, signature, tampered));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify("evt_2", stamp, signature, body));
        Assert.Throws<WebhookVerificationException>(() => new WebhookSignatureVerifier(WebhookSigner.NewSecret()).Verify("evt_1", stamp, signature, body));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify("evt_1", stamp, null, body));

        time.Advance(TimeSpan.FromMinutes(6));
        var expired = Assert.Throws<WebhookVerificationException>(() => verifier.Verify("evt_1", stamp, signature, body));
        Assert.Contains("tolerance", expired.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, expired.Message, StringComparison.Ordinal);
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not hold within the deadline");
            await Task.Delay(50);
        }
    }
}

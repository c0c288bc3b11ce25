using System.Net;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Testing;
using Orleans.Core.Internal;
using Microsoft.Extensions.DependencyInjection;
using LiveGrains.Webhooks.Testing;

namespace LiveGrains.Gateway.Tests.Webhooks;

public sealed class WebhooksApiTests(WebhookGatewayFixture fixture) : IClassFixture<WebhookGatewayFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CreateShowsTheSecretOnceAndReadsHideIt()
    {
        var client = fixture.NewTenantClient();
        var response = await client.PostJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook", events = new[] { "live.started" }, description = "d" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.JsonAsync();
        var id = created.GetProperty("webhook_id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.InRange(Convert.FromBase64String(secret["whsec_".Length..]).Length, 24, 64);
        Assert.True(created.GetProperty("enabled").GetBoolean());
        Assert.Equal("live.started", created.GetProperty("events")[0].GetString());
        Assert.Equal($"/v1/webhooks/{id}", response.Headers.Location!.OriginalString);

        var read = await (await client.GetAsync($"/v1/webhooks/{id}")).JsonAsync();
        Assert.Equal(JsonValueKind.Null, read.GetProperty("secret").ValueKind);
        var list = await (await client.GetAsync("/v1/webhooks")).JsonAsync();
        Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, list.GetProperty("items")[0].GetProperty("secret").ValueKind);

        var rotated = await (await client.PostAsync($"/v1/webhooks/{id}/rotate-secret", null)).JsonAsync();
        Assert.NotEqual(secret, rotated.GetProperty("secret").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/webhooks/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("{}", "url")]
    [InlineData("{\"url\":\"ftp://example.com/x\"}", "url")]
    [InlineData("{\"url\":\"/relative\"}", "url")]
    [InlineData("{\"url\":\"http://user:pw@127.0.0.1/x\"}", "url")]
    [InlineData("{\"url\":\"http://127.0.0.1/x\",\"events\":[\"live.exploded\"]}", "events")]
    [InlineData("{\"url\":\"http://127.0.0.1/x\",\"events\":[]}", "events")]
    [InlineData("{\"url\":\"http://127.0.0.1/x\",\"description\":\"\\u0001\"}", "description")]
    public async Task CreateRefusesBadInputWithFieldErrors(string body, string field)
    {
        var client = fixture.NewTenantClient();
        var response = await client.PostAsync("/v1/webhooks", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.JsonAsync();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Theory]
    [InlineData("GET", "/v1/webhooks/not-an-id", "webhook_id")]
    [InlineData("DELETE", "/v1/webhooks/not-an-id", "webhook_id")]
    [InlineData("POST", "/v1/webhooks/not-an-id/enable", "webhook_id")]
    [InlineData("POST", "/v1/webhooks/not-an-id/disable", "webhook_id")]
    [InlineData("POST", "/v1/webhooks/not-an-id/rotate-secret", "webhook_id")]
    [InlineData("POST", "/v1/webhooks/not-an-id/test", "webhook_id")]
    [InlineData("GET", "/v1/webhooks/not-an-id/deliveries", "webhook_id")]
    [InlineData("GET", "/v1/webhooks/wh_01/deliveries?limit=0", "limit")]
    [InlineData("GET", "/v1/webhooks/wh_01/deliveries?limit=101", "limit")]
    [InlineData("POST", "/v1/webhooks/not-an-id/deliveries/evt_1/redeliver", "webhook_id")]
    [InlineData("POST", "/v1/webhooks/wh_01/deliveries/nope/redeliver", "event_id")]
    public async Task EveryEndpointRefusesBadIdsWithFieldErrors(string method, string url, string field)
    {
        var client = fixture.NewTenantClient();
        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task AnotherTenantsWebhookIsNotFoundOnEveryEndpoint()
    {
        var owner = fixture.NewTenantClient();
        var other = fixture.NewTenantClient();
        var id = (await (await owner.PostJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook" })).JsonAsync()).GetProperty("webhook_id").GetString();
        foreach (var (method, url) in new[]
        {
            ("GET", $"/v1/webhooks/{id}"), ("DELETE", $"/v1/webhooks/{id}"), ("POST", $"/v1/webhooks/{id}/enable"),
            ("POST", $"/v1/webhooks/{id}/disable"), ("POST", $"/v1/webhooks/{id}/rotate-secret"), ("POST", $"/v1/webhooks/{id}/test"),
            ("GET", $"/v1/webhooks/{id}/deliveries"), ("POST", $"/v1/webhooks/{id}/deliveries/evt_01abc/redeliver"),
        })
        {
            var response = await other.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {url}: {response.StatusCode}");
        }

        Assert.Empty((await (await other.GetAsync("/v1/webhooks")).JsonAsync()).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/v1/webhooks/{id}")).StatusCode);
    }

    [Fact]
    public async Task AFilteredWebhookReceivesOnlyTheTypesItAskedFor()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        await client.SubscribeAsync(receiver, ["live.ended"]);
        var roomId = await client.CreateRoomAsync();
        var liveId = await client.GoLiveAsync(roomId);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync($"/v1/lives/{liveId}/end", new { })).StatusCode);

        await Eventually.TrueAsync(() => receiver.Acked.Count >= 1, Deadline, "live.ended delivered");
        var got = Assert.Single(receiver.Acked);
        Assert.Equal("live.ended", got.Type);
        Assert.Equal("ended", got.Data.GetProperty("end_reason").GetString());
        Assert.True(got.Sequence >= 2);
        Assert.Empty(receiver.Rejected);
    }

    [Fact]
    public async Task ADisabledWebhookGetsNothingUntilEnabled()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        var id = await client.SubscribeAsync(receiver);
        var disabled = await (await client.PostAsync($"/v1/webhooks/{id}/disable", null)).JsonAsync();
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        var quietRoom = await client.CreateRoomAsync();

        Assert.True((await (await client.PostAsync($"/v1/webhooks/{id}/enable", null)).JsonAsync()).GetProperty("enabled").GetBoolean());
        var loudRoom = await client.CreateRoomAsync();
        await Eventually.TrueAsync(() => receiver.Acked.Any(r => r.Resource == "room:" + loudRoom), Deadline, "delivery after enable");
        Assert.DoesNotContain(receiver.Received, r => r.Resource == "room:" + quietRoom);
    }

    [Fact]
    public async Task TheTestPingIsSignedAndLogged()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        var id = await client.SubscribeAsync(receiver);
        var response = await client.PostAsync($"/v1/webhooks/{id}/test", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var delivery = await response.JsonAsync();
        Assert.Equal("delivered", delivery.GetProperty("status").GetString());
        Assert.Equal(204, delivery.GetProperty("last_status_code").GetInt32());
        var ping = Assert.Single(receiver.Acked);
        Assert.Equal("webhook.test", ping.Type);
        Assert.Equal(delivery.GetProperty("event_id").GetString(), ping.Id);
        Assert.Contains((await client.DeliveriesAsync(id)).EnumerateArray(), d => d.GetProperty("event_id").GetString() == ping.Id);
    }

    [Fact]
    public async Task RedeliverySendsTheSameEventAgainWithTheSameWebhookId()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        var id = await client.SubscribeAsync(receiver);
        var roomId = await client.CreateRoomAsync();
        await Eventually.TrueAsync(() => receiver.Acked.Count == 1, Deadline, "room.created delivered");
        var first = receiver.Acked[0];
        var log = await Eventually.ValueAsync(
            () => client.DeliveriesAsync(id),
            items => items.EnumerateArray().Any(d => d.GetProperty("event_id").GetString() == first.Id && d.GetProperty("status").GetString() == "delivered"),
            Deadline, "delivery log shows the delivery");
        var entry = log.EnumerateArray().First(d => d.GetProperty("event_id").GetString() == first.Id);
        Assert.Equal("room", entry.GetProperty("resource_type").GetString());
        Assert.Equal(roomId, entry.GetProperty("resource_id").GetString());
        Assert.Equal(1, entry.GetProperty("sequence").GetInt64());

        var response = await client.PostAsync($"/v1/webhooks/{id}/deliveries/{first.Id}/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.TrueAsync(() => receiver.Acked.Count == 2, Deadline, "redelivered");
        Assert.Equal(first.Id, receiver.Acked[1].Id);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/v1/webhooks/{id}/deliveries/evt_0000unknown/redeliver", null)).StatusCode);
    }

    [Fact]
    public async Task AcknowledgedEventsAreNotSentAgainAfterTheLogDeactivates()
    {
        // Acknowledgments are saved behind (AckSaveDelay); a deactivation must save them, or the next activation
        // would find the acknowledged events still queued and send them again.
        var (client, tenant) = fixture.NewTenant();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        await client.SubscribeAsync(receiver);
        var roomId = await client.CreateRoomAsync();
        var liveId = await client.GoLiveAsync(roomId);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync($"/v1/lives/{liveId}/pause", new { })).StatusCode);
        await Eventually.TrueAsync(() => receiver.Acked.Any(r => r.Type == "live.paused"), Deadline, "live.paused delivered");
        var before = receiver.Acked.Count(r => r.Resource == "live:" + liveId);

        var grains = fixture.Factory.Services.GetRequiredService<IGrainFactory>();
        var log = grains.GetGrain<IResourceEventLogGrain>(TenantKey.Compose(tenant, "live:" + liveId));
        await log.Cast<IGrainManagementExtension>().DeactivateOnIdle();

        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync($"/v1/lives/{liveId}/resume", new { })).StatusCode);
        await Eventually.TrueAsync(() => receiver.Acked.Any(r => r.Type == "live.resumed"), Deadline, "live.resumed delivered");
        var after = receiver.Acked.Where(r => r.Resource == "live:" + liveId).ToList();
        Assert.Equal(before + 1, after.Count);
        Assert.Equal(after.Count, after.Select(r => r.Id).Distinct().Count());
        Assert.Empty(receiver.OrderViolations());
    }

    [Fact]
    public async Task EveryEventArrivesInOrderThroughFailuresTimeoutsAndRefusedConnections()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        var id = await client.SubscribeAsync(receiver);
        var rooms = new List<string>();
        var lives = new List<string>();

        async Task DriveAsync()
        {
            var room = await client.CreateRoomAsync();
            rooms.Add(room);
            // Concurrent go-lives on one room: takeovers end each other's lives (live.ended superseded).
            var raced = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.GoLiveAsync(room)));
            lives.AddRange(raced.OfType<string>());
            var last = lives[^1];
            await client.PostJsonAsync($"/v1/lives/{last}/pause", new { });
            await client.PostJsonAsync($"/v1/lives/{last}/resume", new { });
        }

        await DriveAsync();
        receiver.Mode = ReceiverMode.Fail500;
        await DriveAsync();
        await Eventually.TrueAsync(() => receiver.Received.Any(r => !r.Acked), Deadline, "a failed attempt");
        receiver.Mode = ReceiverMode.Hang; // past the 1 s attempt timeout
        await DriveAsync();
        await Eventually.TrueAsync(() => receiver.Received.Count(r => !r.Acked) >= 3, Deadline, "timeouts");
        await receiver.StopAsync(); // connection refused
        await DriveAsync();
        var log = await client.DeliveriesAsync(id);
        Assert.Contains(log.EnumerateArray(), d => d.GetProperty("status").GetString() is "retrying" or "pending");

        // Let refused attempts happen (the point of this phase): the log counts more attempts than before the stop.
        var attemptsWhileUp = log.EnumerateArray().Sum(d => d.GetProperty("attempts").GetInt32());
        await Eventually.TrueAsync(
            async () => (await client.DeliveriesAsync(id)).EnumerateArray().Sum(d => d.GetProperty("attempts").GetInt32()) > attemptsWhileUp,
            Deadline,
            "attempts against the stopped receiver");
        receiver.Mode = ReceiverMode.Ack;
        await receiver.StartAsync();
        foreach (var live in lives)
        {
            await client.PostJsonAsync($"/v1/lives/{live}/end", new { }); // superseded ones answer 409: already ended
        }

        await Eventually.TrueAsync(
            () => rooms.All(r => receiver.MaxSequences().ContainsKey("room:" + r))
                && lives.All(l => receiver.Acked.Any(a => a.Resource == "live:" + l && a.Type == "live.ended")),
            TimeSpan.FromSeconds(60), "every room.created and live.ended delivered");
        Assert.Empty(receiver.OrderViolations());
        Assert.Empty(receiver.Rejected);
        foreach (var group in receiver.Acked.GroupBy(a => a.Resource))
        {
            var sequences = group.Select(a => a.Sequence).Distinct().Order().ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
            Assert.Equal(group.Select(a => a.Id).Distinct().Count(), sequences.Count); // one webhook-id per event
        }
    }
}

public sealed class WebhookSsrfTests(PublicOnlyWebhookGatewayFixture fixture) : IClassFixture<PublicOnlyWebhookGatewayFixture>
{
    [Theory]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://192.168.1.1/hook")]
    [InlineData("http://172.16.5.4/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://100.64.0.1/hook")]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://0.0.0.0/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[fc00::1]/hook")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://[::ffff:10.0.0.1]/hook")]
    [InlineData("http://localhost:5000/hook")]
    [InlineData("http://224.0.0.1/hook")]
    public async Task PrivateAddressesAreRefusedAtRegistration(string url)
    {
        var client = fixture.NewTenantClient();
        var response = await client.PostJsonAsync("/v1/webhooks", new { url });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("url", out _));
    }
}

public sealed class WebhookCallTimeoutTests(ShortCallTimeoutWebhookGatewayFixture fixture) : IClassFixture<ShortCallTimeoutWebhookGatewayFixture>
{
    [Fact]
    public async Task ATestPingToASlowReceiverIsAnsweredAfterItsAttemptTimeoutNotCutOffByTheDefaultCallTimeout()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        var id = await client.SubscribeAsync(receiver);
        receiver.Mode = ReceiverMode.Hang;

        // The attempt (2 s) outlasts Orleans:ResponseTimeoutSeconds (1 s); without its own timeout the call would be a 503.
        var response = await client.PostAsync($"/v1/webhooks/{id}/test", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var delivery = await response.JsonAsync();
        Assert.Equal("failing", delivery.GetProperty("status").GetString());
        Assert.Contains("Timed out after 2 s", delivery.GetProperty("last_error").GetString(), StringComparison.Ordinal);
    }
}

/// <summary>
/// Webhook retry times are on LiveGrains' clock (issue 10): a fake clock reaches a failed delivery's backoff by advancing.
/// The backoff is a minute or so, the test a few seconds: only the clock can have brought the retry.
/// </summary>
public sealed class WebhookBackoffClockTests(FakeClockWebhookGatewayFixture fixture) : IClassFixture<FakeClockWebhookGatewayFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AFailedDeliveryIsRetriedOnceTheClockReachesItsBackoff()
    {
        var client = fixture.NewTenantClient();
        await using var receiver = await WebhookTestApi.StartReceiverAsync();
        receiver.Mode = ReceiverMode.Fail500;
        var id = await client.SubscribeAsync(receiver);
        var attemptedAt = fixture.Factory.Time.GetUtcNow();
        var roomId = await client.CreateRoomAsync();

        // The first attempt fails; the delivery log shows the next one a backoff (half the initial one to all of it) later on the clock.
        var delivery = await Eventually.ValueAsync(
            async () => (await client.DeliveriesAsync(id)).EnumerateArray()
                .FirstOrDefault(d => d.GetProperty("resource_id").GetString() == roomId && d.GetProperty("status").GetString() == "retrying"),
            d => d.ValueKind == JsonValueKind.Object,
            Deadline,
            "the failed first attempt in the delivery log");
        var backoff = delivery.GetProperty("next_attempt_at").GetDateTimeOffset() - attemptedAt;
        var initial = TimeSpan.FromSeconds(FakeClockWebhookGatewayFixture.InitialBackoffSeconds);
        Assert.InRange(backoff, initial / 2 - TimeSpan.FromMilliseconds(1), initial + TimeSpan.FromMilliseconds(1));

        receiver.Mode = ReceiverMode.Ack;
        fixture.Factory.Time.Advance(initial);
        await Eventually.TrueAsync(() => receiver.Acked.Any(r => r.Resource == "room:" + roomId), Deadline, "the retry once the clock passed the backoff");
        Assert.Single(receiver.Received, r => r.Resource == "room:" + roomId && !r.Acked);
    }
}

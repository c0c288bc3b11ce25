using System.Net;
using System.Text.Json;
using LiveGrains.Testing;
using LiveGrains.Webhooks.Testing;

namespace LiveGrains.Gateway.Tests.Webhooks;

/// <summary>
/// A gateway with short webhook backoff and a tenant per test (so one test's endpoints never see another's
/// events). <see cref="AllowPrivateNetworks"/> is false only for the SSRF fixture. Its rules run on the real clock:
/// these tests let retries happen as real time passes (<see cref="FakeClockWebhookGatewayFixture"/> advances a fake one).
/// </summary>
public class WebhookGatewayFixture : IAsyncLifetime
{
    public const int Tenants = 64;
    private int _nextTenant;

    protected virtual bool AllowPrivateNetworks => true;

    /// <summary>Whether LiveGrains' clock is the factory's fake one (<see cref="GatewayFactory.Time"/>).</summary>
    protected virtual bool FakeClock => false;

    /// <summary>The per-attempt webhook timeout: short, so tests of failing endpoints run fast.</summary>
    protected virtual string AttemptTimeoutSeconds => "1";

    public GatewayFactory Factory { get; } = new();

    public Task InitializeAsync()
    {
        Factory.FakeClock = FakeClock;
        Factory.Settings["Webhooks:AllowPrivateNetworks"] = AllowPrivateNetworks ? "true" : "false";
        Factory.Settings["Webhooks:InitialBackoffMilliseconds"] = "50";
        Factory.Settings["Webhooks:MaxBackoffMilliseconds"] = "1000";
        Factory.Settings["Webhooks:AttemptTimeoutSeconds"] = AttemptTimeoutSeconds;
        ConfigureSettings(Factory.Settings);
        for (var i = 0; i < Tenants; i++)
        {
            Factory.Settings[$"Auth:ApiKeys:key-webhooks-{i:00}-0123456789"] = $"wh-tenant-{i:00}";
        }

        _ = Factory.Server; // start the host now
        return Task.CompletedTask;
    }

    protected virtual void ConfigureSettings(Dictionary<string, string?> settings)
    {
    }

    /// <summary>A client for a tenant no other test uses.</summary>
    public HttpClient NewTenantClient() => NewTenant().Client;

    /// <summary>A client for a tenant no other test uses, and that tenant's id (for grain keys).</summary>
    public (HttpClient Client, string Tenant) NewTenant()
    {
        var i = Interlocked.Increment(ref _nextTenant) - 1;
        return (Factory.CreateClient($"key-webhooks-{i:00}-0123456789"), $"wh-tenant-{i:00}");
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

public sealed class PublicOnlyWebhookGatewayFixture : WebhookGatewayFixture
{
    protected override bool AllowPrivateNetworks => false;
}

/// <summary>
/// Webhook retry times on the factory's fake clock, with a backoff of a minute and more: a retry can only come from
/// advancing the clock, never from waiting.
/// </summary>
public sealed class FakeClockWebhookGatewayFixture : WebhookGatewayFixture
{
    public const int InitialBackoffSeconds = 60;

    protected override bool FakeClock => true;

    protected override void ConfigureSettings(Dictionary<string, string?> settings)
    {
        settings["Webhooks:InitialBackoffMilliseconds"] = (InitialBackoffSeconds * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Webhooks:MaxBackoffMilliseconds"] = "600000";
    }
}

/// <summary>
/// A grain call timeout (1 s) shorter than a webhook attempt (2 s): the calls that wait on a receiver must carry
/// their own, longer <c>[ResponseTimeout]</c> rather than the cluster's default.
/// </summary>
public sealed class ShortCallTimeoutWebhookGatewayFixture : WebhookGatewayFixture
{
    protected override string AttemptTimeoutSeconds => "2";

    protected override void ConfigureSettings(Dictionary<string, string?> settings) => settings["Orleans:ResponseTimeoutSeconds"] = "1";
}

public static class WebhookTestApi
{
    /// <summary>Creates a webhook to the receiver and gives the receiver its secret.</summary>
    public static async Task<string> SubscribeAsync(this HttpClient client, WebhookReceiver receiver, string[]? events = null)
    {
        var response = await client.PostJsonAsync("/v1/webhooks", new { url = receiver.Url, events, description = "test receiver" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.JsonAsync();
        receiver.Secret = json.GetProperty("secret").GetString();
        return json.GetProperty("webhook_id").GetString()!;
    }

    public static async Task<string> CreateRoomAsync(this HttpClient client, string takeover = "takeover")
    {
        var roomId = Http.Unique("room");
        var response = await client.PostJsonAsync("/v1/rooms", new { room_id = roomId, takeover_policy = takeover });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return roomId;
    }

    public static async Task<string?> GoLiveAsync(this HttpClient client, string roomId)
    {
        var response = await client.PostJsonAsync($"/v1/rooms/{roomId}/go-live", new { });
        return response.StatusCode == HttpStatusCode.Created
            ? (await response.JsonAsync()).GetProperty("live").GetProperty("live_id").GetString()
            : null;
    }

    public static async Task<JsonElement> DeliveriesAsync(this HttpClient client, string webhookId)
    {
        var response = await client.GetAsync($"/v1/webhooks/{webhookId}/deliveries?limit=100");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("items");
    }

    public static async Task<WebhookReceiver> StartReceiverAsync()
    {
        var receiver = new WebhookReceiver(FreePort.Next());
        await receiver.StartAsync();
        return receiver;
    }
}

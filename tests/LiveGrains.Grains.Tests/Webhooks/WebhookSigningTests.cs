using System.Net;
using System.Text;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LiveGrains.Grains.Tests.Webhooks;

public sealed class WebhookSigningTests
{
    [Fact]
    public void SignaturesMatchTheStandardWebhooksTestVector()
    {
        // The published Standard Webhooks (and Svix) reference vector.
        var signature = WebhookSigner.Sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, Encoding.UTF8.GetBytes("{\"test\": 2432232314}"));
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void NewSecretsAreWhsecAndBase64OfThirtyTwoRandomBytes()
    {
        var a = WebhookSigner.NewSecret();
        Assert.StartsWith("whsec_", a, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(a[6..]).Length);
        Assert.NotEqual(a, WebhookSigner.NewSecret());
    }

    [Fact]
    public void TheBodyCarriesTypeTimestampAndTheResourceWithItsSequence()
    {
        var @event = new ResourceEvent("evt_1", "live.ended", "acme", "live", "lv_1", 7, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            "{\"live_id\":\"lv_1\",\"end_reason\":\"superseded\"}");
        var body = JsonDocument.Parse(WebhookSender.Body(@event)).RootElement;
        Assert.Equal("live.ended", body.GetProperty("type").GetString());
        Assert.Equal("2026-01-02T03:04:05.000Z", body.GetProperty("timestamp").GetString());
        Assert.Equal(7, body.GetProperty("data").GetProperty("sequence").GetInt64());
        Assert.Equal("superseded", body.GetProperty("data").GetProperty("end_reason").GetString());
    }

    [Theory]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("100.128.0.1", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("::1", false)]
    [InlineData("::", false)]
    [InlineData("fc00::1", false)]
    [InlineData("fd12::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:192.168.0.1", false)]
    [InlineData("2606:4700::1111", true)]
    public void OnlyPublicAddressesArePublic(string address, bool expected) =>
        Assert.Equal(expected, WebhookUrlPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://127.0.0.1:{port}/hook")]
    [InlineData("http://localhost:{port}/hook")]
    [InlineData("http://[::1]:{port}/hook")]
    public async Task DeliveryRefusesPrivateAddressesBeforeConnecting(string template)
    {
        // A listener that would accept: the refusal must come before any connection reaches it.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.IPv6Any, 0) { Server = { DualMode = true } };
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var services = new ServiceCollection().AddLogging();
        services.AddLiveGrainsWebhooks(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateNetworks"] = "false",
            ["Webhooks:AttemptTimeoutSeconds"] = "2",
        }).Build());
        await using var provider = services.BuildServiceProvider();
        var sender = provider.GetRequiredService<WebhookSender>();
        var target = new WebhookTarget("wh_1", template.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
            WebhookSigner.NewSecret(), null, true);
        var attempt = await sender.SendAsync(target, new ResourceEvent("evt_1", "room.created", "t", "room", "r", 1, DateTimeOffset.UtcNow, "{}"));

        Assert.False(attempt.Success);
        Assert.Contains("Refused", attempt.Error, StringComparison.Ordinal);
        Assert.False(listener.Pending());
    }
}

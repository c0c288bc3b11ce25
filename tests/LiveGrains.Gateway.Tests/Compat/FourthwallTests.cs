using System.Net;
using System.Text;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests.Compat;

/// <summary>Fourthwall's streaming status API (seed 000), sent as Fourthwall's clients send it, against the real pipeline.</summary>
[Collection(CompatCollection.Name)]
public sealed class FourthwallTests(CompatGatewayFactory factory)
{
    /// <summary>StreamingStatusV1 of the seed's OpenAPI schema, with one Twitch service.</summary>
    private const string DocumentedResponse = """
        {
            "shopId": "sh_1",
            "services": [
                { "type": "TWITCH", "status": "ONLINE", "broadcasterId": "b", "broadcasterLogin": "l", "thumbnailUrl": "t" }
            ]
        }
        """;

    private const string StartRequest = """
        { "services": [ { "type": "TWITCH", "broadcasterId": "141981764", "broadcasterLogin": "twitchdev", "thumbnailUrl": "https://static-cdn.jtvnw.net/x.jpg", "unknownField": 1 } ] }
        """;

    private readonly HttpClient _client = factory.Raw();

    private static (string, string) Basic(string password, string user = "shop-owner") =>
        ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    [Fact]
    public async Task StartSetsTheServicesOnlineAndTheShopGoesLiveOnceRepeatingChangesNothing()
    {
        var (key, tenant) = await RegisterShopAsync();

        var first = await (await _client.SendAsync(HttpMethod.Put, "/compat/fourthwall/open-api/v1.0/streaming/start", Basic(key), StartRequest)).JsonAsync(HttpStatusCode.OK);

        CompatTestKit.AssertShape(DocumentedResponse, first);
        Assert.Equal(tenant, first.GetProperty("shopId").GetString());
        var service = Assert.Single(first.GetProperty("services").EnumerateArray());
        Assert.Equal("TWITCH", service.GetProperty("type").GetString());
        Assert.Equal("ONLINE", service.GetProperty("status").GetString());
        Assert.Equal("141981764", service.GetProperty("broadcasterId").GetString());
        Assert.Equal("twitchdev", service.GetProperty("broadcasterLogin").GetString());

        using var v1 = factory.Gateway.CreateClient(key);
        var room = await (await v1.GetAsync("/v1/rooms/fourthwall-shop")).OkJsonAsync();
        var liveId = room.GetProperty("active_live_id").GetString()!;
        Assert.Equal("live", (await v1.V1LiveAsync(liveId)).GetProperty("status").GetString());

        var again = await (await _client.SendAsync(HttpMethod.Put, "/compat/fourthwall/open-api/v1.0/streaming/start", Basic(key), StartRequest)).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Equal(liveId, (await (await v1.GetAsync("/v1/rooms/fourthwall-shop")).OkJsonAsync()).GetProperty("active_live_id").GetString());
        Assert.Equal(1, (await (await v1.GetAsync("/v1/rooms/fourthwall-shop/lives")).OkJsonAsync()).GetProperty("items").GetArrayLength());

        var stopped = await (await _client.SendAsync(HttpMethod.Put, "/compat/fourthwall/open-api/v1.0/streaming/stop", Basic(key))).JsonAsync(HttpStatusCode.OK);
        Assert.Equal("OFFLINE", Assert.Single(stopped.GetProperty("services").EnumerateArray()).GetProperty("status").GetString());
        Assert.Equal("ended", (await v1.V1LiveAsync(liveId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ErrorsAndRefusalsComeInFourthwallsShape()
    {
        var (key, _) = await RegisterShopAsync();
        const string Start = "/compat/fourthwall/open-api/v1.0/streaming/start";

        async Task Error(HttpResponseMessage response, HttpStatusCode status, string code)
        {
            var body = await response.JsonAsync(status);
            Assert.Equal(["code", "message"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(code, body.GetProperty("code").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        }

        await Error(await _client.SendAsync(HttpMethod.Put, Start, null, StartRequest), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start, Basic("wrong"), StartRequest), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start, ("Authorization", "Basic !!!"), StartRequest), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start, ("Authorization", "Bearer " + key), StartRequest), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start, Basic(key), "{}"), HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start, Basic(key), """{"services":[{"type":"YOUTUBE","broadcasterId":"1","broadcasterLogin":"x"}]}"""),
            HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start, Basic(key), """{"services":[{"type":"TWITCH","broadcasterLogin":"x"}]}"""),
            HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        await Error(await _client.SendAsync(HttpMethod.Put, Start, Basic(key), "[1]"), HttpStatusCode.BadRequest, "VALIDATION_FAILED");

        using var v1 = factory.Gateway.CreateClient(key);
        Assert.Equal(HttpStatusCode.NotFound, (await v1.GetAsync("/v1/rooms/fourthwall-shop")).StatusCode);
    }

    [Fact]
    public async Task AShopOnlyEverSeesItsOwnServicesAndRoom()
    {
        var (acme, _) = await RegisterShopAsync();
        var (globex, globexTenant) = await RegisterShopAsync();
        await (await _client.SendAsync(HttpMethod.Put, "/compat/fourthwall/open-api/v1.0/streaming/start", Basic(acme), StartRequest)).JsonAsync(HttpStatusCode.OK);

        var other = await (await _client.SendAsync(HttpMethod.Put, "/compat/fourthwall/open-api/v1.0/streaming/stop", Basic(globex))).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(globexTenant, other.GetProperty("shopId").GetString());
        Assert.Empty(other.GetProperty("services").EnumerateArray());

        using var v1 = factory.Gateway.CreateClient(acme);
        var room = await (await v1.GetAsync("/v1/rooms/fourthwall-shop")).OkJsonAsync();
        Assert.Equal(JsonValueKind.String, room.GetProperty("active_live_id").ValueKind);
    }

    [Fact]
    public async Task TheShopsServicesAreItsRoomsStatusOnlyDestinations()
    {
        var (key, _) = await RegisterShopAsync();
        await (await _client.SendAsync(HttpMethod.Put, "/compat/fourthwall/open-api/v1.0/streaming/start", Basic(key), StartRequest)).JsonAsync(HttpStatusCode.OK);

        using var v1 = factory.Gateway.CreateClient(key);
        var destination = Assert.Single((await (await v1.GetAsync("/v1/rooms/fourthwall-shop/destinations")).OkJsonAsync()).GetProperty("items").EnumerateArray());
        Assert.Equal("twitch", destination.GetProperty("type").GetString());
        Assert.Equal("141981764", destination.GetProperty("broadcaster_id").GetString());
        Assert.Equal("online", destination.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, destination.GetProperty("url").ValueKind);

        // Ended through /v1: the service is OFFLINE for Fourthwall too (one status, seen by both APIs).
        var liveId = (await (await v1.GetAsync("/v1/rooms/fourthwall-shop")).OkJsonAsync()).GetProperty("active_live_id").GetString()!;
        (await v1.PostAsync($"/v1/lives/{liveId}/end", "{}")).Dispose();
        var id = destination.GetProperty("destination_id").GetString()!;
        Assert.Equal("offline", (await (await v1.GetAsync($"/v1/destinations/{id}")).OkJsonAsync()).GetProperty("status").GetString());

        // A renamed login updates the same destination; nothing is duplicated.
        var renamed = StartRequest.Replace("twitchdev", "twitchdev2", StringComparison.Ordinal);
        var started = await (await _client.SendAsync(HttpMethod.Put, "/compat/fourthwall/open-api/v1.0/streaming/start", Basic(key), renamed)).JsonAsync(HttpStatusCode.OK);
        var service = Assert.Single(started.GetProperty("services").EnumerateArray());
        Assert.Equal("twitchdev2", service.GetProperty("broadcasterLogin").GetString());
        Assert.Equal("ONLINE", service.GetProperty("status").GetString());
        Assert.Equal(id, Assert.Single((await (await v1.GetAsync("/v1/rooms/fourthwall-shop/destinations")).OkJsonAsync()).GetProperty("items").EnumerateArray())
            .GetProperty("destination_id").GetString());
    }

    /// <summary>Each test is a shop (tenant) of its own: a shop has one room, which tests must not share.</summary>
    private Task<(string Key, string Tenant)> RegisterShopAsync() => Task.FromResult(factory.NewShop());
}

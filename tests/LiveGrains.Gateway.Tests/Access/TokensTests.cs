using System.Net;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests.Access;

[Collection(GatewayCollection.Name)]
public sealed class TokensTests(GatewayFactory factory)
{
    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);
    private readonly HttpClient _globex = factory.CreateClient(GatewayFactory.GlobexKey);

    [Fact]
    public async Task ExpiredForgedUnsignedAndOtherTenantTokensAreUnauthorized()
    {
        var acmeKey = await _acme.CreateKeyAsync();
        var globexKey = await _globex.CreateKeyAsync();
        var roomId = await _acme.CreateRoomAsync();
        var grants = new { room = roomId, host = true };
        using (var valid = factory.Client(acmeKey.Token("alice", grants)))
        {
            await (await valid.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        }

        var header = Convert.ToBase64String("""{"alg":"none","typ":"JWT"}"""u8.ToArray()).TrimEnd('=');
        var payload = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = acmeKey.KeyId, sub = "alice", exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), grants,
        })).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var refused = new[]
        {
            AccessTestKit.Token(acmeKey.KeyId, acmeKey.Secret, "alice", grants, expiresIn: TimeSpan.FromMinutes(-5), notBefore: DateTime.UtcNow.AddMinutes(-20)),
            AccessTestKit.Token(acmeKey.KeyId, globexKey.Secret, "alice", grants),
            AccessTestKit.Token(acmeKey.KeyId, "lgsk_" + new string('x', 90), "alice", grants),
            AccessTestKit.Token(acmeKey.KeyId, acmeKey.Secret, "alice", new { room = roomId }),
            AccessTestKit.Token(acmeKey.KeyId, acmeKey.Secret, "alice", new { room = roomId, host = "yes" }),
            AccessTestKit.Token("key_00000000000000000000000000", acmeKey.Secret, "alice", grants),
            header + "." + payload + ".",
        };
        foreach (var token in refused)
        {
            using var client = factory.Client(token);
            await (await client.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        }

        // A globex token names a room of globex: acme's room of the same id is not there.
        using var globexToken = factory.Client(globexKey.Token("alice", grants));
        await (await globexToken.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task TheHostsTokenRunsTheLifecycleAndAViewersOrAnotherUsersDoesNot()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = HttpTestKit.NewRoomId();
        await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","host_id":"alice"}""")).OkJsonAsync(HttpStatusCode.Created);
        using var alice = factory.Client(key.Token("alice", new { room = roomId, host = true }));
        using var bob = factory.Client(key.Token("bob", new { room = roomId, host = true }));
        using var aliceAsViewer = factory.Client(key.Token("alice", new { room = roomId, viewer = true }));

        await (await bob.PostAsync($"/v1/rooms/{roomId}/go-live", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await aliceAsViewer.PostAsync($"/v1/rooms/{roomId}/go-live", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var liveId = (await alice.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;

        await (await bob.PostAsync($"/v1/lives/{liveId}/pause", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await aliceAsViewer.PostAsync($"/v1/lives/{liveId}/end", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("paused", (await (await alice.PostAsync($"/v1/lives/{liveId}/pause", "{}")).OkJsonAsync()).GetProperty("status").GetString());
        Assert.Equal("live", (await (await _acme.PostAsync($"/v1/lives/{liveId}/resume", "{}")).OkJsonAsync()).GetProperty("status").GetString());
        await (await bob.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal("ended", (await (await alice.PostAsync($"/v1/lives/{liveId}/end", "{}")).OkJsonAsync()).GetProperty("status").GetString());

        // The host reads who did what; a viewer of the room does not.
        var trail = (await (await alice.GetAsync($"/v1/lives/{liveId}/transitions")).OkJsonAsync()).GetProperty("items");
        Assert.Equal("alice", trail[trail.GetArrayLength() - 1].GetProperty("by").GetString());
        await (await aliceAsViewer.GetAsync($"/v1/lives/{liveId}/transitions")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        // The API key is the server side: it may, host or not; and a room without a host takes any host token.
        await _acme.GoLiveAsync(roomId);
        var open = await _acme.CreateRoomAsync();
        using var anyone = factory.Client(key.Token("carol", new { room = open, host = true }));
        await anyone.GoLiveAsync(open);
    }

    [Fact]
    public async Task AHostTokenCannotReachOtherRoomsOrAnythingElse()
    {
        var key = await _acme.CreateKeyAsync();
        var roomId = await _acme.CreateRoomAsync();
        var other = await _acme.CreateRoomAsync();
        var otherLive = (await _acme.GoLiveAsync(other)).GetProperty("live").GetProperty("live_id").GetString()!;
        using var host = factory.Client(key.Token("alice", new { room = roomId, host = true }));

        await (await host.GetAsync($"/v1/rooms/{other}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.PostAsync($"/v1/lives/{otherLive}/end", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.PostAsync("/v1/rooms", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"host_id":"mallory"}""")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.GetAsync("/v1/webhooks")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.PostAsync("/v1/tokens", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.GetAsync("/v1/audit")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task AViewerTokenIsLimitedToItsLive()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = await _acme.CreateRoomAsync();
        var liveId = (await _acme.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        var otherLive = (await _acme.GoLiveAsync(await _acme.CreateRoomAsync())).GetProperty("live").GetProperty("live_id").GetString()!;
        using var viewer = factory.Client(key.Token("v-1", new { live = liveId, viewer = true }));

        foreach (var path in new[] { "viewers/v-1/join", "viewers/v-1/heartbeat", "likes", "chat-messages", "viewers/v-1/leave" })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await viewer.PostAsync($"/v1/lives/{liveId}/{path}", "{}")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await viewer.PostAsync($"/v1/lives/{liveId}/activity", """{"joins":["v-1"]}""")).StatusCode);
        await (await viewer.GetAsync($"/v1/lives/{liveId}/stats")).OkJsonAsync();

        await (await viewer.PostAsync($"/v1/lives/{otherLive}/viewers/v-1/join", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.GetAsync($"/v1/lives/{otherLive}/stats")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.PostAsync($"/v1/lives/{liveId}/end", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("live", (await (await _acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync()).GetProperty("status").GetString());

        // A room grant covers the room's lives, not another room's.
        using var roomViewer = factory.Client(key.Token("v-2", new { room = roomId, viewer = true }));
        Assert.Equal(HttpStatusCode.Accepted, (await roomViewer.PostAsync($"/v1/lives/{liveId}/viewers/v-2/join", "{}")).StatusCode);
        await (await roomViewer.PostAsync($"/v1/lives/{otherLive}/viewers/v-2/join", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task ATokenIsBoundByTheScopeOfItsKey()
    {
        var read = await _acme.CreateKeyAsync("read");
        var roomId = await _acme.CreateRoomAsync();
        var liveId = (await _acme.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        using var host = factory.Client(read.Token("alice", new { room = roomId, host = true, viewer = true }));

        await (await host.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        await (await host.PostAsync($"/v1/lives/{liveId}/end", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await host.PostAsync($"/v1/lives/{liveId}/viewers/alice/join", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task ServerMintedTokensWorkAsTheirGrantsSay()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = await _acme.CreateRoomAsync();
        using var withKey = factory.Client(key.Secret);

        var minted = await (await withKey.PostAsync("/v1/tokens", $$"""{"sub":"alice","grants":{"room":"{{roomId}}","host":true},"ttl_seconds":600}""")).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(key.KeyId, minted.GetProperty("key_id").GetString());
        var expiresAt = minted.GetProperty("expires_at").GetDateTimeOffset();
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));
        using var host = factory.Client(minted.GetProperty("token").GetString()!);
        await host.GoLiveAsync(roomId);

        // A configured key has no secret to sign with: it names the managed key; another tenant's key is unknown.
        await (await _acme.PostAsync("/v1/tokens", $$$"""{"sub":"a","grants":{"room":"{{{roomId}}}","viewer":true}}""")).ValidationProblemAsync("key_id");
        var viaConfig = await (await _acme.PostAsync("/v1/tokens", $$"""{"sub":"a","grants":{"room":"{{roomId}}","viewer":true},"key_id":"{{key.KeyId}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("a", viaConfig.GetProperty("sub").GetString());
        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.PostAsync("/v1/tokens", $$"""{"sub":"a","grants":{"room":"r","viewer":true},"key_id":"{{key.KeyId}}"}""")).ValidationProblemAsync("key_id");
        await (await withKey.PostAsync("/v1/tokens", """{"sub":"a","grants":{"room":"r"}}""")).ValidationProblemAsync("grants");
        await (await withKey.PostAsync("/v1/tokens", """{"sub":"a b","grants":{"room":"r","host":true}}""")).ValidationProblemAsync("sub");
        await (await withKey.PostAsync("/v1/tokens", """{"sub":"a","grants":{"room":"r","host":true},"ttl_seconds":0}""")).ValidationProblemAsync("ttl_seconds");
    }
}

using System.Net;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests.Access;

[Collection(GatewayCollection.Name)]
public sealed class CoHostsTests(GatewayFactory factory)
{
    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);

    [Fact]
    public async Task ACoHostsTokenRunsTheLifecycleAndAnotherUsersDoesNotUntilThePatchSaysSo()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = HttpTestKit.NewRoomId();
        var created = await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","host_id":"alice","co_host_ids":["carol","dave"]}"""))
            .OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(["carol", "dave"], CoHosts(created));
        Assert.Equal(["carol", "dave"], CoHosts(await (await _acme.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync()));
        using var carol = factory.Client(key.Token("carol", new { room = roomId, host = true }));
        using var bob = factory.Client(key.Token("bob", new { room = roomId, host = true }));
        using var alice = factory.Client(key.Token("alice", new { room = roomId, host = true }));

        await (await bob.PostAsync($"/v1/rooms/{roomId}/go-live", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var liveId = (await carol.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        Assert.Equal("carol", (await (await _acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync()).GetProperty("started_by").GetString());
        Assert.Equal("paused", (await (await carol.PostAsync($"/v1/lives/{liveId}/pause", "{}")).OkJsonAsync()).GetProperty("status").GetString());
        Assert.Equal("live", (await (await alice.PostAsync($"/v1/lives/{liveId}/resume", "{}")).OkJsonAsync()).GetProperty("status").GetString());
        await (await bob.PostAsync($"/v1/lives/{liveId}/end", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        // A PATCH replaces the co-hosts; one that does not name them leaves them as they are.
        var patched = await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"co_host_ids":["bob"]}""")).OkJsonAsync();
        Assert.Equal(["bob"], CoHosts(patched));
        Assert.Equal("alice", patched.GetProperty("host_id").GetString());
        Assert.Equal(["bob"], CoHosts(await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"title":"t"}""")).OkJsonAsync()));
        await (await carol.PostAsync($"/v1/lives/{liveId}/pause", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("paused", (await (await bob.PostAsync($"/v1/lives/{liveId}/pause", "{}")).OkJsonAsync()).GetProperty("status").GetString());

        // An empty list removes them: the host alone remains; the API key is the server side and always may.
        Assert.Empty(CoHosts(await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"co_host_ids":[]}""")).OkJsonAsync()));
        await (await bob.PostAsync($"/v1/lives/{liveId}/resume", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal("ended", (await (await _acme.PostAsync($"/v1/lives/{liveId}/end", "{}")).OkJsonAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ARoomWithCoHostsButNoHostIsHostOnlyForThemAndARoomWithNeitherShowsAnEmptyList()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = HttpTestKit.NewRoomId();
        await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","co_host_ids":["carol"]}""")).OkJsonAsync(HttpStatusCode.Created);
        using var bob = factory.Client(key.Token("bob", new { room = roomId, host = true }));
        using var carol = factory.Client(key.Token("carol", new { room = roomId, host = true }));

        await (await bob.PostAsync($"/v1/rooms/{roomId}/go-live", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await carol.GoLiveAsync(roomId);

        var open = await (await _acme.GetAsync($"/v1/rooms/{await _acme.CreateRoomAsync()}")).OkJsonAsync();
        Assert.Equal(JsonValueKind.Array, open.GetProperty("co_host_ids").ValueKind);
        Assert.Empty(CoHosts(open));
    }

    [Theory]
    [InlineData("""{"co_host_ids":[""]}""", "co_host_ids[0]")]
    [InlineData("""{"co_host_ids":["ok","not ok"]}""", "co_host_ids[1]")]
    [InlineData("""{"co_host_ids":["carol","carol"]}""", "co_host_ids[1]")]
    [InlineData("""{"co_host_ids":[null]}""", "co_host_ids[0]")]
    [InlineData("""{"co_host_ids":["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]}""", "co_host_ids[0]")]
    [InlineData("""{"co_host_ids":"carol"}""", "co_host_ids")]
    [InlineData("""{"co_host_ids":[1]}""", "co_host_ids[0]")]
    public async Task BadCoHostIdsAreFieldErrorsOnCreateAndPatch(string body, string field)
    {
        await (await _acme.PostAsync("/v1/rooms", body)).ValidationProblemAsync(field);
        var roomId = await _acme.CreateRoomAsync();
        await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", body)).ValidationProblemAsync(field);
    }

    [Fact]
    public async Task MoreThanTwentyCoHostsAreRefused()
    {
        var ids = JsonSerializer.Serialize(Enumerable.Range(0, 21).Select(i => $"u{i}"));
        await (await _acme.PostAsync("/v1/rooms", $$"""{"co_host_ids":{{ids}}}""")).ValidationProblemAsync("co_host_ids");
        var twenty = JsonSerializer.Serialize(Enumerable.Range(0, 20).Select(i => $"u{i}"));
        Assert.Equal(20, CoHosts(await (await _acme.PostAsync("/v1/rooms", $$"""{"co_host_ids":{{twenty}}}""")).OkJsonAsync(HttpStatusCode.Created)).Count);
    }

    private static List<string?> CoHosts(JsonElement room) => [.. room.GetProperty("co_host_ids").EnumerateArray().Select(e => e.GetString())];
}

using System.Net;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Access;

[Collection(GatewayCollection.Name)]
public sealed class AuditTests(GatewayFactory factory)
{
    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);

    [Fact]
    public async Task EveryKindOfControlActionIsAuditedWithItsActorAndOutcome()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = HttpTestKit.NewRoomId();
        await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","host_id":"alice"}""")).OkJsonAsync(HttpStatusCode.Created);
        await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"title":"t"}""")).OkJsonAsync();
        await (await _acme.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        using var managed = factory.Client(key.Secret);
        var liveId = (await managed.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        using var alice = factory.Client(key.Token("alice", new { room = roomId, host = true }));
        using var bob = factory.Client(key.Token("bob", new { room = roomId, host = true }));
        await (await alice.PostAsync($"/v1/lives/{liveId}/pause", "{}")).OkJsonAsync();
        await (await bob.PostAsync($"/v1/lives/{liveId}/end", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(HttpStatusCode.Accepted, (await _acme.PostAsync($"/v1/lives/{liveId}/viewers/v1/join", null)).StatusCode);
        await (await alice.PostAsync($"/v1/lives/{liveId}/end", "{}")).OkJsonAsync();
        var streamId = (await (await _acme.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("stream_id").GetString()!;
        await (await _acme.PostAsync($"/v1/streams/{streamId}/disable", null)).OkJsonAsync();
        var webhookId = (await (await _acme.PostAsync("/v1/webhooks", """{"url":"http://127.0.0.1:9/hook"}""")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("webhook_id").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await _acme.SendAsync(HttpMethod.Delete, $"/v1/webhooks/{webhookId}")).StatusCode);
        var doomed = await _acme.CreateKeyAsync("read");
        Assert.Equal(HttpStatusCode.NoContent, (await _acme.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{doomed.KeyId}")).StatusCode);

        var room = await EntriesAsync(_acme, roomId, 2);
        Assert.Equal(["create_room", "update_room"], room.Select(Action));
        Assert.All(room, e => Assert.Equal("key", e.GetProperty("actor").GetProperty("type").GetString()));
        Assert.All(room, e => Assert.StartsWith("cfg_", e.GetProperty("actor").GetProperty("id").GetString(), StringComparison.Ordinal));
        Assert.All(room, e => Assert.Equal("success", e.GetProperty("outcome").GetString()));

        var live = await EntriesAsync(_acme, liveId, 4);
        Assert.Equal(["go_live", "pause_live", "end_live", "end_live"], live.Select(Action));
        Assert.Equal(("key", key.KeyId), Actor(live[0]));
        Assert.Equal(("token", "alice"), Actor(live[1]));
        Assert.Equal(("token", "bob"), Actor(live[2]));
        Assert.Equal("denied", live[2].GetProperty("outcome").GetString());
        Assert.Equal(403, live[2].GetProperty("status").GetInt32());
        Assert.Equal(("token", "alice"), Actor(live[3]));
        Assert.Equal("success", live[3].GetProperty("outcome").GetString());
        Assert.Equal("live", live[0].GetProperty("resource_type").GetString());
        Assert.True(live[0].GetProperty("at").GetDateTimeOffset() <= live[3].GetProperty("at").GetDateTimeOffset());

        Assert.Equal(["create_stream", "disable_stream"], (await EntriesAsync(_acme, streamId, 2)).Select(Action));
        Assert.Equal(["create_webhook", "delete_webhook"], (await EntriesAsync(_acme, webhookId, 2)).Select(Action));
        Assert.Equal(["create_api_key", "delete_api_key"], (await EntriesAsync(_acme, doomed.KeyId, 2)).Select(Action));

        var byAlice = await (await _acme.GetAsync($"/v1/audit?actor=token:alice&resource={liveId}")).OkJsonAsync();
        Assert.Equal(2, byAlice.GetProperty("items").GetArrayLength());

        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        Assert.Empty(await EntriesAsync(globex, liveId, 0));
    }

    [Fact]
    public async Task TheAuditLogPagesWithACursor()
    {
        var roomId = await _acme.CreateRoomAsync();
        for (var i = 0; i < 5; i++)
        {
            await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", $$"""{"title":"t{{i}}"}""")).OkJsonAsync();
        }

        await EntriesAsync(_acme, roomId, 6);
        var first = await (await _acme.GetAsync($"/v1/audit?resource={roomId}&limit=4")).OkJsonAsync();
        Assert.Equal(4, first.GetProperty("items").GetArrayLength());
        var cursor = first.GetProperty("next_cursor").GetString();
        Assert.NotNull(cursor);
        var second = await (await _acme.GetAsync($"/v1/audit?resource={roomId}&after={cursor}")).OkJsonAsync();
        Assert.Equal(2, second.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);

        await (await _acme.GetAsync("/v1/audit?after=x")).ValidationProblemAsync("after");
        await (await _acme.GetAsync("/v1/audit?limit=0")).ValidationProblemAsync("limit");
    }

    /// <summary>Every entry of a resource, walking the whole feed; polls until there are <paramref name="expected"/> (appends are one-way).</summary>
    private static Task<List<JsonElement>> EntriesAsync(HttpClient client, string resource, int expected) =>
        Eventually.ValueAsync(async () =>
        {
            var items = new List<JsonElement>();
            string? cursor = null;
            do
            {
                var page = await (await client.GetAsync($"/v1/audit?resource={resource}&limit=100" + (cursor is null ? "" : "&after=" + cursor))).OkJsonAsync();
                items.AddRange(page.GetProperty("items").EnumerateArray());
                cursor = page.GetProperty("next_cursor").GetString();
            }
            while (cursor is not null);
            return items;
        }, items => items.Count == expected, TimeSpan.FromSeconds(10), $"{expected} audit entries for {resource}");

    private static string Action(JsonElement entry) => entry.GetProperty("action").GetString()!;

    private static (string?, string?) Actor(JsonElement entry) =>
        (entry.GetProperty("actor").GetProperty("type").GetString(), entry.GetProperty("actor").GetProperty("id").GetString());
}

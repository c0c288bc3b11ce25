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
    public async Task PresetsTokensAndTheSeedPlatformsActionsAreAuditedWithTheirActor()
    {
        var key = await _acme.CreateKeyAsync("admin");
        using var managed = factory.Client(key.Secret);
        var preset = await (await managed.PostAsync("/v1/presets", """{"name":"audited"}""")).OkJsonAsync(HttpStatusCode.Created);
        var presetId = preset.GetProperty("preset_id").GetString()!;
        await (await managed.SendAsync(HttpMethod.Patch, $"/v1/presets/{presetId}", """{"chat_enabled":false}""")).OkJsonAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await managed.SendAsync(HttpMethod.Delete, $"/v1/presets/{presetId}")).StatusCode);

        var presetEntries = await EntriesAsync(_acme, presetId, 3);
        Assert.Equal(["create_preset", "update_preset", "delete_preset"], presetEntries.Select(Action));
        Assert.All(presetEntries, e => Assert.Equal(("key", key.KeyId), Actor(e)));
        Assert.All(presetEntries, e => Assert.Equal("preset", e.GetProperty("resource_type").GetString()));

        // Minting a token is an action of the key; what the token then does is the token user's.
        var roomId = HttpTestKit.NewRoomId();
        await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","host_id":"alice"}""")).OkJsonAsync(HttpStatusCode.Created);
        var liveId = (await (await _acme.PostAsync($"/v1/rooms/{roomId}/lives", "{}")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("live_id").GetString()!;
        var minted = await (await managed.PostAsync("/v1/tokens", $$$"""{"sub":"alice","grants":{"room":"{{{roomId}}}","host":true}}""")).OkJsonAsync(HttpStatusCode.Created);
        await Eventually.TrueAsync(
            async () => (await Items($"/v1/audit?actor=key:{key.KeyId}&limit=100"))
                .Any(e => Action(e) == "create_token" && e.GetProperty("resource_type").GetString() == "token"),
            TimeSpan.FromSeconds(10), "minting a token is audited as the key's action");

        using var sendbird = factory.CreateClient();
        using var start = new HttpRequestMessage(HttpMethod.Post, $"/compat/sendbird/v1/live-events/{liveId}/start");
        start.Headers.Add("Api-Token", minted.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await sendbird.SendAsync(start)).StatusCode);
        using var end = new HttpRequestMessage(HttpMethod.Put, $"/compat/prism/prism/v1/service/live/{liveId}/end");
        end.Headers.Add("x-prism-access-token", GatewayFactory.AcmeKey);
        Assert.Equal(HttpStatusCode.OK, (await sendbird.SendAsync(end)).StatusCode);

        var live = await EntriesAsync(_acme, liveId, 3);
        Assert.Equal(["schedule_live", "sendbird_start_live_event", "prism_end_live"], live.Select(Action));
        Assert.Equal(("token", "alice"), Actor(live[1]));
        Assert.Equal("key", Actor(live[2]).Item1);
        Assert.All(live, e => Assert.Equal("success", e.GetProperty("outcome").GetString()));
    }

    [Fact]
    public async Task TheFiltersNarrowByResourceActorAndCursor()
    {
        var first = await _acme.CreateKeyAsync("write");
        var second = await _acme.CreateKeyAsync("write");
        using var one = factory.Client(first.Secret);
        using var two = factory.Client(second.Secret);
        var roomA = HttpTestKit.NewRoomId();
        var roomB = HttpTestKit.NewRoomId();
        await (await one.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomA}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        await (await one.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomA}", """{"title":"by one"}""")).OkJsonAsync();
        await (await two.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomA}", """{"title":"by two"}""")).OkJsonAsync();
        await (await two.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomB}}"}""")).OkJsonAsync(HttpStatusCode.Created);

        var a = await EntriesAsync(_acme, roomA, 3);
        Assert.Equal([first.KeyId, first.KeyId, second.KeyId], a.Select(e => Actor(e).Item2));
        Assert.Equal(["create_room"], (await EntriesAsync(_acme, roomB, 1)).Select(Action));

        // actor= takes a bare id or type:id, and combines with resource=.
        var byFirst = await Items($"/v1/audit?actor={first.KeyId}&limit=100");
        Assert.Equal(["create_room", "update_room"], byFirst.Select(Action));
        Assert.All(byFirst, e => Assert.Equal(roomA, e.GetProperty("resource").GetString()));
        Assert.Equal(["update_room"], (await Items($"/v1/audit?actor=key:{second.KeyId}&resource={roomA}")).Select(Action));
        Assert.Empty(await Items($"/v1/audit?actor=token:{second.KeyId}&resource={roomA}"));

        // after= is exclusive: the entries after the first one of room A.
        var afterFirst = await Items($"/v1/audit?resource={roomA}", a[0].GetProperty("id").GetString());
        Assert.Equal(a.Skip(1).Select(e => e.GetProperty("id").GetString()), afterFirst.Select(e => e.GetProperty("id").GetString()));
        Assert.Empty(await Items($"/v1/audit?resource={roomA}", a[2].GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3651")]
    public void ARetentionOutsideOneDayToTenYearsIsRefusedAtStart(string days)
    {
        using var gateway = new GatewayFactory();
        gateway.Settings["Audit:RetentionDays"] = days;

        var error = Assert.ThrowsAny<Exception>(() => gateway.CreateClient());

        Assert.Contains("Audit:RetentionDays", error is Microsoft.Extensions.Options.OptionsValidationException v ? string.Join(";", v.Failures) : error.ToString(), StringComparison.Ordinal);
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

    /// <summary>Every entry a query matches, following its cursor (a filter may end a page early: see AuditLogGrain).</summary>
    private async Task<List<JsonElement>> Items(string url, string? after = null)
    {
        var items = new List<JsonElement>();
        var cursor = after;
        do
        {
            var page = await (await _acme.GetAsync(url + (cursor is null ? "" : "&after=" + cursor))).OkJsonAsync();
            items.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);
        return items;
    }

    private static string Action(JsonElement entry) => entry.GetProperty("action").GetString()!;

    private static (string?, string?) Actor(JsonElement entry) =>
        (entry.GetProperty("actor").GetProperty("type").GetString(), entry.GetProperty("actor").GetProperty("id").GetString());
}

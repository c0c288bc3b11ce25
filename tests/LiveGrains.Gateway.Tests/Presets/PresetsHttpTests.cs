using System.Net;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Presets;

[Collection(GatewayCollection.Name)]
public sealed class PresetsHttpTests(GatewayFactory factory)
{
    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);

    [Fact]
    public async Task PresetsAreCreatedListedReadPatchedAndDeletedPerTenant()
    {
        var created = await (await _acme.PostAsync("/v1/presets", """{"name":"small","max_join_limit":10}""")).OkJsonAsync(HttpStatusCode.Created);
        var presetId = created.GetProperty("preset_id").GetString()!;
        Assert.StartsWith("ps_", presetId, StringComparison.Ordinal);
        Assert.Equal("small", created.GetProperty("name").GetString());
        Assert.True(created.GetProperty("chat_enabled").GetBoolean());
        Assert.Equal(10, created.GetProperty("max_join_limit").GetInt64());
        Assert.False(created.GetProperty("recording_enabled").GetBoolean());
        Assert.False(created.GetProperty("is_default").GetBoolean());
        Assert.False(created.TryGetProperty("settings", out _));

        var listed = await (await _acme.GetAsync("/v1/presets")).OkJsonAsync();
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), p => p.GetProperty("preset_id").GetString() == presetId);

        // max_join_limit: null removes the limit; an absent field stays as it was.
        var patched = await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/presets/{presetId}", """{"chat_enabled":false}""")).OkJsonAsync();
        Assert.Equal(10, patched.GetProperty("max_join_limit").GetInt64());
        Assert.False(patched.GetProperty("chat_enabled").GetBoolean());
        patched = await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/presets/{presetId}", """{"max_join_limit":null}""")).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, patched.GetProperty("max_join_limit").ValueKind);
        Assert.False(patched.GetProperty("chat_enabled").GetBoolean());

        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.GetAsync($"/v1/presets/{presetId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await globex.SendAsync(HttpMethod.Delete, $"/v1/presets/{presetId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await globex.PostAsync("/v1/rooms", $$"""{"preset_id":"{{presetId}}"}""")).ValidationProblemAsync("preset_id");

        Assert.Equal(HttpStatusCode.NoContent, (await _acme.SendAsync(HttpMethod.Delete, $"/v1/presets/{presetId}")).StatusCode);
        await (await _acme.GetAsync($"/v1/presets/{presetId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");

        var audit = await Eventually.ValueAsync(
            async () => (await (await _acme.GetAsync($"/v1/audit?resource={presetId}&limit=100")).OkJsonAsync()).GetProperty("items").EnumerateArray()
                .Select(e => e.GetProperty("action").GetString()).ToList(),
            actions => actions.Count == 4, TimeSpan.FromSeconds(10), "the preset's control actions in the audit log");
        Assert.Equal(["create_preset", "update_preset", "update_preset", "delete_preset"], audit);
    }

    [Fact]
    public async Task BadPresetsAndOverridesAre400sWithFieldErrors()
    {
        await (await _acme.PostAsync("/v1/presets", "{}")).ValidationProblemAsync("name");
        await (await _acme.PostAsync("/v1/presets", """{"name":"x","max_join_limit":0}""")).ValidationProblemAsync("max_join_limit");
        await (await _acme.PostAsync("/v1/presets", """{"name":"x","chat_enabled":"yes"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await _acme.GetAsync("/v1/presets/not-a-preset")).ValidationProblemAsync("preset_id");
        await (await _acme.PostAsync("/v1/rooms", """{"preset_id":"ps_00000000000000000000000000"}""")).ValidationProblemAsync("preset_id");
        await (await _acme.PostAsync("/v1/rooms", """{"preset_id":"nope"}""")).ValidationProblemAsync("preset_id");

        var roomId = await _acme.CreateRoomAsync();
        await (await _acme.PostAsync($"/v1/rooms/{roomId}/go-live", """{"max_join_limit_override":-1}""")).ValidationProblemAsync("max_join_limit_override");
        var liveId = (await _acme.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}", """{"max_join_limit_override":0}""")).ValidationProblemAsync("max_join_limit_override");
    }

    [Fact]
    public async Task ALiveShowsItsPresetOverridesAndEffectiveSettings()
    {
        var presetId = (await (await _acme.PostAsync("/v1/presets", """{"name":"p","chat_enabled":false,"max_join_limit":100,"recording_enabled":true}"""))
            .OkJsonAsync(HttpStatusCode.Created)).GetProperty("preset_id").GetString()!;
        var roomId = HttpTestKit.NewRoomId();
        var room = await (await _acme.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","preset_id":"{{presetId}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(presetId, room.GetProperty("preset_id").GetString());

        var live = (await (await _acme.PostAsync($"/v1/rooms/{roomId}/go-live", """{"max_join_limit_override":2}""")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("live");
        var liveId = live.GetProperty("live_id").GetString()!;
        Assert.Equal(presetId, live.GetProperty("preset_id").GetString());
        Assert.Equal(JsonValueKind.Null, live.GetProperty("chat_enabled_override").ValueKind);
        Assert.Equal(2, live.GetProperty("max_join_limit_override").GetInt64());
        Assert.Equal(JsonValueKind.Null, live.GetProperty("recording_enabled").ValueKind);
        Assert.False(live.GetProperty("effective_chat_enabled").GetBoolean());
        Assert.Equal(2, live.GetProperty("effective_max_join_limit").GetInt64());
        Assert.True(live.GetProperty("effective_recording_enabled").GetBoolean());

        // Clearing the limit override (null) falls back to the preset; an absent override stays.
        var patched = await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}", """{"max_join_limit_override":null,"chat_enabled_override":true}""")).OkJsonAsync();
        Assert.Equal(100, patched.GetProperty("effective_max_join_limit").GetInt64());
        Assert.True(patched.GetProperty("effective_chat_enabled").GetBoolean());
        patched = await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}", """{"title":"x"}""")).OkJsonAsync();
        Assert.True(patched.GetProperty("chat_enabled_override").GetBoolean());
        var read = await (await _acme.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal(100, read.GetProperty("effective_max_join_limit").GetInt64());

        // Removing the room's preset: its next lives use the built-in defaults.
        await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", """{"preset_id":""}""")).OkJsonAsync();
        var next = (await _acme.GoLiveAsync(roomId)).GetProperty("live");
        Assert.Equal(JsonValueKind.Null, next.GetProperty("preset_id").ValueKind);
        Assert.True(next.GetProperty("effective_chat_enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, next.GetProperty("effective_max_join_limit").ValueKind);
    }

    [Fact]
    public async Task TheTenantsDefaultPresetAppliesToRoomsWithoutOne()
    {
        // A tenant of its own: a default preset would apply to every other test's rooms.
        using var own = factory.CreateClient(GatewayFactory.PresetsKey);
        var presetId = (await (await own.PostAsync("/v1/presets", """{"name":"house","max_join_limit":1,"is_default":true}"""))
            .OkJsonAsync(HttpStatusCode.Created)).GetProperty("preset_id").GetString()!;
        var roomId = await own.CreateRoomAsync();
        var live = (await own.GoLiveAsync(roomId)).GetProperty("live");
        Assert.Equal(presetId, live.GetProperty("preset_id").GetString());
        Assert.Equal(1, live.GetProperty("effective_max_join_limit").GetInt64());

        var liveId = live.GetProperty("live_id").GetString()!;
        Assert.Equal(HttpStatusCode.Accepted, (await own.PostAsync($"/v1/lives/{liveId}/viewers/a/join", null)).StatusCode);
        await (await own.PostAsync($"/v1/lives/{liveId}/viewers/b/join", null)).ProblemAsync(HttpStatusCode.Conflict, "join_limit_reached");
        Assert.Equal(HttpStatusCode.NoContent, (await own.SendAsync(HttpMethod.Delete, $"/v1/presets/{presetId}")).StatusCode);
    }

    [Fact]
    public async Task JoinsAboveTheLimitAre409sExactlyUnderConcurrencyAndBatchesCountThemAsRejected()
    {
        const int Limit = 10;
        var roomId = await _acme.CreateRoomAsync();
        var liveId = (await (await _acme.PostAsync($"/v1/rooms/{roomId}/go-live", $$"""{"max_join_limit_override":{{Limit}}}""")).OkJsonAsync(HttpStatusCode.Created))
            .GetProperty("live").GetProperty("live_id").GetString()!;

        var answers = await Task.WhenAll(Enumerable.Range(0, 4 * Limit).Select(async i =>
        {
            using var response = await _acme.PostAsync($"/v1/lives/{liveId}/viewers/v{i}/join", null);
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                await response.ProblemAsync(HttpStatusCode.Conflict, "join_limit_reached");
            }

            return response.StatusCode;
        }));
        Assert.Equal(Limit, answers.Count(s => s == HttpStatusCode.Accepted));
        Assert.Equal(3 * Limit, answers.Count(s => s == HttpStatusCode.Conflict));
        var stats = await (await _acme.GetAsync($"/v1/lives/{liveId}/stats")).OkJsonAsync();
        Assert.Equal(Limit, stats.GetProperty("viewer_count").GetInt64());

        var batch = await (await _acme.PostAsync($"/v1/lives/{liveId}/activity", """{"joins":["n1","n2"],"likes":3}""")).OkJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(3, batch.GetProperty("accepted").GetInt32());
        Assert.Equal(2, batch.GetProperty("rejected").GetInt32());
    }

    [Fact]
    public async Task ChatMessagesWhileChatIsDisabledAre409sAndCountedAsRejectedInABatch()
    {
        var roomId = await _acme.CreateRoomAsync();
        var liveId = (await (await _acme.PostAsync($"/v1/rooms/{roomId}/go-live", """{"chat_enabled_override":false}""")).OkJsonAsync(HttpStatusCode.Created))
            .GetProperty("live").GetProperty("live_id").GetString()!;

        await (await _acme.PostJsonAsync($"/v1/lives/{liveId}/chat-messages", new { count = 2 })).ProblemAsync(HttpStatusCode.Conflict, "chat_disabled");
        var batch = await (await _acme.PostAsync($"/v1/lives/{liveId}/activity", """{"joins":["a"],"chat_messages":5}""")).OkJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(1, batch.GetProperty("accepted").GetInt32());
        Assert.Equal(5, batch.GetProperty("rejected").GetInt32());

        // Chat enabled again: messages count.
        await (await _acme.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}", """{"chat_enabled_override":null}""")).OkJsonAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await _acme.PostJsonAsync($"/v1/lives/{liveId}/chat-messages", new { count = 2 })).StatusCode);
        var stats = await Eventually.ValueAsync(
            async () => await (await _acme.GetAsync($"/v1/lives/{liveId}/stats")).OkJsonAsync(),
            s => s.GetProperty("chat_message_count").GetInt64() == 2, TimeSpan.FromSeconds(10), "the chat messages to count");
        Assert.Equal(1, stats.GetProperty("viewer_count").GetInt64());
    }
}

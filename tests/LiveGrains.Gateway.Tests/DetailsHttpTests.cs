using System.Net;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests;

/// <summary>api.md "More on rooms and lives" over HTTP: fields, their limits (400 with field errors), the trail.</summary>
[Collection(GatewayCollection.Name)]
public sealed class DetailsHttpTests(GatewayFactory factory)
{
    public static TheoryData<string, string> BadDetails => new()
    {
        { Json(description: new string('d', 2_001)), "description" },
        { Json(description: "bell\u0007"), "description" },
        { Json(metadata: Keys(33)), "metadata" },
        { Json(metadata: "{\"big\":\"" + new string('x', 4_094) + "\"}"), "metadata" },
        { Json(metadata: "{\"\":\"empty key\"}"), "metadata" },
        { Json(metadata: "{\"n\":1}"), "metadata.n" },
        { Json(metadata: "[\"a\"]"), "metadata" },
        { "{\"visibility\":\"secret\"}", "visibility" },
        { "{\"created_by\":\"" + new string('c', 129) + "\"}", "created_by" },
    };

    [Theory]
    [MemberData(nameof(BadDetails))]
    public async Task BadDescriptionMetadataOrVisibilityIsAFieldErrorOnEveryCreateAndUpdate(string body, string field)
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();

        await (await client.PostAsync("/v1/rooms", body)).ValidationProblemAsync(field);
        await (await client.PostAsync($"/v1/rooms/{roomId}/go-live", body)).ValidationProblemAsync(field);
        await (await client.PostAsync($"/v1/rooms/{roomId}/lives", body)).ValidationProblemAsync(field);
        if (field != "created_by")
        {
            await (await client.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", body)).ValidationProblemAsync(field);
            var liveId = (await client.GoLiveAsync(await client.CreateRoomAsync())).GetProperty("live").GetProperty("live_id").GetString();
            await (await client.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}", body)).ValidationProblemAsync(field);
        }

        // Nothing was created or changed.
        var room = await (await client.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, room.GetProperty("active_live_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, room.GetProperty("metadata").ValueKind);
        Assert.Empty((await (await client.GetAsync($"/v1/rooms/{roomId}/lives")).OkJsonAsync()).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task TheLimitsThemselvesAreAccepted()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var description = "line one\nline two\t" + new string('d', 2_000 - 18);
        var metadata = "{" + string.Join(",", Enumerable.Range(0, 32).Select(i => $"\"k{i:00}\":\"{new string('v', 124)}\"")) + "}"; // 32 x (3 + 124) = 4,064 bytes
        var room = await (await client.PostAsync("/v1/rooms", $$"""{"description":{{JsonSerializer.Serialize(description)}},"metadata":{{metadata}}}""")).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(description, room.GetProperty("description").GetString());
        Assert.Equal(32, room.GetProperty("metadata").EnumerateObject().Count());
    }

    [Fact]
    public async Task RoomsAndLivesShowTheirDetailsAndTheLivesTrailShowsWhoDidWhat()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = HttpTestKit.NewRoomId();
        var room = await (await client.PostAsync("/v1/rooms",
            $$"""{"room_id":"{{roomId}}","title":"Channel","description":"Daily show","metadata":{"shopId":"42","Region":"EU"},"visibility":"limited","created_by":"ops-1"}"""))
            .OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("Daily show", room.GetProperty("description").GetString());
        Assert.Equal(["shopId", "Region"], room.GetProperty("metadata").EnumerateObject().Select(p => p.Name)); // keys as sent
        Assert.Equal("limited", room.GetProperty("visibility").GetString());
        Assert.Equal("ops-1", room.GetProperty("created_by").GetString());

        var live = await (await client.PostAsync($"/v1/rooms/{roomId}/lives", """{"created_by":"planner","metadata":{"sku":"A-1"}}""")).OkJsonAsync(HttpStatusCode.Created);
        var liveId = live.GetProperty("live_id").GetString()!;
        Assert.Equal("Channel", live.GetProperty("title").GetString());
        Assert.Equal("limited", live.GetProperty("visibility").GetString());
        Assert.Equal("A-1", live.GetProperty("metadata").GetProperty("sku").GetString());
        foreach (var (action, by) in new[] { ("ready", "producer"), ("start", "host-a"), ("pause", "host-b"), ("resume", "host-c"), ("end", "moderator") })
        {
            (await (await client.PostAsync($"/v1/lives/{liveId}/{action}", $$"""{"by":"{{by}}"}""")).OkJsonAsync()).ToString();
        }

        var read = await (await client.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal(
            ["planner", "producer", "host-a", "host-b", "host-c", "moderator"],
            new[] { "created_by", "ready_by", "started_by", "paused_by", "resumed_by", "ended_by" }.Select(f => read.GetProperty(f).GetString()));

        var trail = await (await client.GetAsync($"/v1/lives/{liveId}/transitions")).OkJsonAsync();
        var items = trail.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["at", "from", "to", "by", "reason"], items[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            [(null, "scheduled", "planner", null), ("scheduled", "ready", "producer", null), ("ready", "live", "host-a", null),
             ("live", "paused", "host-b", null), ("paused", "live", "host-c", null), ("live", "ended", "moderator", "ended")],
            items.Select(t => (Str(t, "from"), Str(t, "to"), Str(t, "by"), Str(t, "reason"))));

        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.GetAsync($"/v1/lives/{liveId}/transitions")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.GetAsync("/v1/lives/not-a-live/transitions")).ValidationProblemAsync("live_id");
    }

    [Fact]
    public async Task ALivesDetailsChangeUntilItEnds()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();
        var liveId = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;

        var patched = await (await client.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}",
            """{"title":"Launch","description":"Q&A","metadata":{"sku":"A-1"},"visibility":"private"}""")).OkJsonAsync();
        Assert.Equal(("Launch", "Q&A", "A-1", "private"), (Str(patched, "title"), Str(patched, "description"),
            patched.GetProperty("metadata").GetProperty("sku").GetString(), Str(patched, "visibility")));
        var read = await (await client.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal(("Launch", "A-1"), (Str(read, "title"), read.GetProperty("metadata").GetProperty("sku").GetString()));

        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}", """{"title":"x"}""")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        (await client.PostAsync($"/v1/lives/{liveId}/end", "{}")).Dispose();
        await (await client.SendAsync(HttpMethod.Patch, $"/v1/lives/{liveId}", """{"title":"late"}""")).ProblemAsync(HttpStatusCode.Conflict, "live_ended");
    }

    private static string? Str(JsonElement item, string name) => item.GetProperty(name).GetString();

    private static string Keys(int count) => "{" + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"k{i}\":\"v\"")) + "}";

    private static string Json(string? description = null, string? metadata = null) =>
        description is not null ? $$"""{"description":{{JsonSerializer.Serialize(description)}}}""" : $$"""{"metadata":{{metadata}}}""";
}

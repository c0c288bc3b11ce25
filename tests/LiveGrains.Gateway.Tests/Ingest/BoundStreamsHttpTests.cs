using System.Net;

namespace LiveGrains.Gateway.Tests.Ingest;

/// <summary>POST /v1/streams with live_id, name, role, enabled; PATCH and DELETE /v1/streams/{id}; stream_ids on lives.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BoundStreamsHttpTests(GatewayFactory factory)
{
    private const string Secret = "test-hook-secret";
    private readonly HttpClient _api = factory.CreateClient(GatewayFactory.AcmeKey);
    private readonly HttpClient _hooks = factory.CreateClient();

    [Fact]
    public async Task AStreamBoundToAScheduledLiveStartsItOnPublishAndTheLiveShowsItsStreamIds()
    {
        var roomId = await _api.CreateRoomAsync();
        var liveId = (await (await _api.PostAsync($"/v1/rooms/{roomId}/lives", "{}")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("live_id").GetString()!;

        var stream = await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}","live_id":"{{liveId}}","name":"main cam","role":"backup","enabled":false}"""))
            .OkJsonAsync(HttpStatusCode.Created);
        var streamId = stream.GetProperty("stream_id").GetString()!;
        var key = stream.GetProperty("stream_key").GetString()!;
        Assert.Equal(liveId, stream.GetProperty("live_id").GetString());
        Assert.Equal(liveId, stream.GetProperty("bound_live_id").GetString());
        Assert.Equal("main cam", stream.GetProperty("name").GetString());
        Assert.Equal("backup", stream.GetProperty("role").GetString());
        Assert.False(stream.GetProperty("enabled").GetBoolean());

        // Created inactive (Gcore's active: false): refused until enabled.
        Assert.Equal(HttpStatusCode.Forbidden, await PublishAsync(key, "1"));
        await (await _api.SendAsync(HttpMethod.Patch, $"/v1/streams/{streamId}", """{"enabled":true}""")).OkJsonAsync();
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(key, "2"));

        var live = await (await _api.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal("live", live.GetProperty("status").GetString());
        Assert.Equal([streamId], live.GetProperty("stream_ids").EnumerateArray().Select(s => s.GetString()));
        var listed = await (await _api.GetAsync($"/v1/rooms/{roomId}/streams")).OkJsonAsync();
        var item = Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal("connected", item.GetProperty("status").GetString());
        Assert.Equal(liveId, item.GetProperty("live_id").GetString());
        Assert.True(item.GetProperty("enabled").GetBoolean());
        Assert.Equal("backup", item.GetProperty("role").GetString());
    }

    [Fact]
    public async Task BadFieldsAreFieldErrorsAndAnotherRoomsLiveCannotBeBound()
    {
        var roomId = await _api.CreateRoomAsync();
        var otherRoom = await _api.CreateRoomAsync();
        var foreignLive = (await (await _api.PostAsync($"/v1/rooms/{otherRoom}/lives", "{}")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("live_id").GetString()!;

        await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}","live_id":"nope"}""")).ValidationProblemAsync("live_id");
        await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}","live_id":"{{foreignLive}}"}""")).ValidationProblemAsync("live_id");
        await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}","name":"{{new string('n', 201)}}"}""")).ValidationProblemAsync("name");
        using var badRole = await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}","role":"tertiary"}""");
        Assert.Equal(HttpStatusCode.BadRequest, badRole.StatusCode);

        var streamId = (await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("stream_id").GetString()!;
        await (await _api.SendAsync(HttpMethod.Patch, $"/v1/streams/{streamId}", """{"reconnect_window_seconds":-5}""")).ValidationProblemAsync("reconnect_window_seconds");
        await (await _api.SendAsync(HttpMethod.Patch, $"/v1/streams/{streamId}", """{"live_id":"x"}""")).ValidationProblemAsync("live_id");
        await (await _api.SendAsync(HttpMethod.Patch, "/v1/streams/bad", """{"name":"x"}""")).ValidationProblemAsync("stream_id");
        var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.SendAsync(HttpMethod.Patch, $"/v1/streams/{streamId}", """{"name":"x"}""")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await globex.SendAsync(HttpMethod.Delete, $"/v1/streams/{streamId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");

        var patched = await (await _api.SendAsync(HttpMethod.Patch, $"/v1/streams/{streamId}", """{"name":"side cam","reconnect_window_seconds":9,"recording":"auto"}""")).OkJsonAsync();
        Assert.Equal("side cam", patched.GetProperty("name").GetString());
        Assert.Equal(9, patched.GetProperty("reconnect_window_seconds").GetInt32());
        Assert.Equal("auto", patched.GetProperty("recording").GetString());
    }

    [Fact]
    public async Task ADeletedStreamIsGoneFromReadsListingsAndCallbacksAndItsLiveEnds()
    {
        var roomId = await _api.CreateRoomAsync();
        var stream = await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        var streamId = stream.GetProperty("stream_id").GetString()!;
        var key = stream.GetProperty("stream_key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await PublishAsync(key, "5"));
        var liveId = (await (await _api.GetAsync($"/v1/streams/{streamId}")).OkJsonAsync()).GetProperty("live_id").GetString()!;

        using var deleted = await _api.SendAsync(HttpMethod.Delete, $"/v1/streams/{streamId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        await (await _api.GetAsync($"/v1/streams/{streamId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await _api.SendAsync(HttpMethod.Delete, $"/v1/streams/{streamId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        var listed = await (await _api.GetAsync($"/v1/streams?room_id={roomId}")).OkJsonAsync();
        Assert.Empty(listed.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, await PublishAsync(key, "6"));
        var live = await (await _api.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();
        Assert.Equal("ended", live.GetProperty("status").GetString());
        Assert.Equal("stream_deleted", live.GetProperty("ended_by").GetString());
    }

    private async Task<HttpStatusCode> PublishAsync(string key, string clientId)
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["call"] = "publish", ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = clientId,
        });
        using var response = await _hooks.PostAsync($"/v1/ingest-hooks/nginx-rtmp?secret={Secret}", content);
        return response.StatusCode;
    }
}

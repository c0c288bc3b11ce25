using System.Net;

namespace LiveGrains.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class IdempotencyHttpTests(GatewayFactory factory)
{
    [Fact]
    public async Task TheSameKeyAndRequestReplaysTheFirstResponseAndCreatesOneRoom()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var key = Http.Unique("idem");

        using var first = await client.PostAsync("/v1/rooms", """{"title":"once"}""", key);
        using var second = await client.PostAsync("/v1/rooms", """{"title":"once"}""", key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(first.StatusCode, second.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(first.Content.Headers.ContentType, second.Content.Headers.ContentType);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.NotNull(first.Headers.Location);
    }

    [Fact]
    public async Task TheSameKeyOnGoLiveStartsOneLiveAndSupersedesNothingTheSecondTime()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();
        await client.GoLiveAsync(roomId);
        var key = Http.Unique("idem");

        var responses = new List<(HttpStatusCode Status, string Body, Uri? Location)>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync($"/v1/rooms/{roomId}/go-live", """{"title":"retry me"}""", key);
            responses.Add((response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location));
        }

        Assert.All(responses, r => Assert.Equal(responses[0], r));
        Assert.Equal(HttpStatusCode.Created, responses[0].Status);
        var page = await (await client.GetAsync($"/v1/rooms/{roomId}/lives")).OkJsonAsync();
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task AnErrorResponseIsReplayedToo()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();
        var key = Http.Unique("idem");

        using var first = await client.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}"}""", key);
        using var second = await client.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}"}""", key);

        await first.ProblemAsync(HttpStatusCode.Conflict, "room_exists");
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheSameKeyWithADifferentBodyOrPathIsRefusedAndChangesNothing()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var key = Http.Unique("idem");
        var otherRoom = HttpTestKit.NewRoomId();
        using var first = await client.PostAsync("/v1/rooms", """{"title":"first"}""", key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        await (await client.PostAsync("/v1/rooms", $$"""{"room_id":"{{otherRoom}}"}""", key)).ValidationProblemAsync("idempotency-key");
        await (await client.PostAsync($"/v1/rooms/{otherRoom}/go-live", """{"title":"first"}""", key)).ValidationProblemAsync("idempotency-key");

        await (await client.GetAsync($"/v1/rooms/{otherRoom}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task TwoTenantsUsingTheSameKeyAreIndependent()
    {
        using var acme = factory.CreateClient(GatewayFactory.AcmeKey);
        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        var key = Http.Unique("idem");

        var acmeRoom = await (await acme.PostAsync("/v1/rooms", "{}", key)).OkJsonAsync(HttpStatusCode.Created);
        using var globexResponse = await globex.PostAsync("/v1/rooms", "{}", key);
        var globexRoom = await globexResponse.OkJsonAsync(HttpStatusCode.Created);

        Assert.False(globexResponse.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(acmeRoom.GetProperty("room_id").GetString(), globexRoom.GetProperty("room_id").GetString());
        await (await globex.GetAsync($"/v1/rooms/{acmeRoom.GetProperty("room_id").GetString()}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("tab\tinside")]
    public async Task AnInvalidIdempotencyKeyIsAValidationError(string key)
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/rooms") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        await (await client.SendAsync(request)).ValidationProblemAsync("idempotency-key");
    }

    [Fact]
    public async Task ConcurrentDuplicatesCreateExactlyOneRoom()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var key = Http.Unique("idem");

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.PostAsync("/v1/rooms", """{"title":"race"}""", key)));

        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        var roomIds = new HashSet<string?>();
        foreach (var r in created)
        {
            roomIds.Add((await r.OkJsonAsync(HttpStatusCode.Created)).GetProperty("room_id").GetString());
        }

        Assert.Single(roomIds);
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }
}

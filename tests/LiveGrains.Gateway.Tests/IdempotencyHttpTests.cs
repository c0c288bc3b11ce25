using System.Net;
using System.Security.Claims;
using System.Text;
using LiveGrains.Gateway.Auth;
using LiveGrains.Gateway.Idempotency;
using LiveGrains.ServiceDefaults.Idempotency;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

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

    /// <summary>
    /// A client that times out and goes away must not leave an empty answer behind its key: the request runs to the
    /// end, its answer is stored whole, and the client's retry gets it (the chaos runs found replays of a 200 with no
    /// body, because the answer was written with the aborted client's token).
    /// </summary>
    [Fact]
    public async Task AnAnswerWrittenAfterTheClientWentAwayIsStoredWholeAndReplayedToItsRetry()
    {
        var store = factory.Services.GetRequiredService<IIdempotencyStore>();
        var key = Http.Unique("idem");
        var ran = 0;
        using var gone = new CancellationTokenSource();
        var middleware = new IdempotencyMiddleware(
            async context =>
            {
                Interlocked.Increment(ref ran);
                await gone.CancelAsync(); // the client times out while the grains work
                await TypedResults.Ok(new { status = "ended", live_id = "lv_x" }).ExecuteAsync(context);
            },
            store,
            NullLogger<IdempotencyMiddleware>.Instance);

        var first = KeyedPost(key, gone.Token);
        await middleware.InvokeAsync(first);

        var retry = KeyedPost(key, CancellationToken.None);
        await middleware.InvokeAsync(retry);

        Assert.Equal(1, ran);
        Assert.Equal(StatusCodes.Status200OK, retry.Response.StatusCode);
        Assert.Equal("true", retry.Response.Headers["Idempotent-Replayed"].ToString());
        Assert.StartsWith("application/json", retry.Response.ContentType);
        Assert.Equal("""{"status":"ended","live_id":"lv_x"}""", Encoding.UTF8.GetString(((MemoryStream)retry.Response.Body).ToArray()));

        DefaultHttpContext KeyedPost(string idempotencyKey, CancellationToken aborted)
        {
            var context = new DefaultHttpContext { RequestServices = factory.Services, RequestAborted = aborted };
            context.Request.Method = HttpMethods.Post;
            context.Request.Path = "/v1/lives/lv_x/end";
            context.Request.Headers[IdempotencyMiddleware.HeaderName] = idempotencyKey;
            context.Request.Body = new MemoryStream("{}"u8.ToArray());
            context.Response.Body = new MemoryStream();
            context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ApiKeyAuthenticationHandler.TenantClaim, "acme")], "test"));
            return context;
        }
    }
}

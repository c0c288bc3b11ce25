using System.Net;
using System.Net.Http.Headers;

namespace LiveGrains.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AuthTests(GatewayFactory factory)
{
    [Theory]
    [InlineData("GET", "/v1/rooms/some-room")]
    [InlineData("POST", "/v1/rooms")]
    [InlineData("GET", "/v1/lives/lv_0123456789abcdefghjkmnpqrs")]
    [InlineData("POST", "/v1/rooms/some-room/go-live")]
    public async Task ARequestWithoutAnApiKeyIsUnauthorized(string method, string url)
    {
        using var client = factory.CreateClient();

        using var response = await client.SendAsync(new HttpMethod(method), url, method == "POST" ? "{}" : null);

        await response.ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Theory]
    [InlineData("Bearer not-a-configured-key")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("key-acme-0123456789")]
    [InlineData("Bearer lg_dev_key")]
    public async Task AnUnknownOrMalformedApiKeyIsUnauthorized(string authorization)
    {
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);

        using var response = await client.GetAsync("/v1/rooms/some-room");

        await response.ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task AnUnauthorizedPostChangesNothing()
    {
        using var anonymous = factory.CreateClient();
        using var acme = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = HttpTestKit.NewRoomId();

        using var refused = await anonymous.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}"}""", idempotencyKey: Http.Unique("k"));

        await refused.ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        await (await acme.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    [InlineData("/openapi/v1.json")]
    public async Task ProbesAndTheOpenApiDocumentNeedNoKey(string url)
    {
        using var client = factory.CreateClient();

        using var response = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheRoomAndLiveEndpoints()
    {
        using var client = factory.CreateClient();

        var text = await client.GetStringAsync("/openapi/v1.json");

        foreach (var path in new[] { "/v1/rooms", "/v1/rooms/{roomId}", "/v1/rooms/{roomId}/go-live", "/v1/rooms/{roomId}/lives", "/v1/lives/{liveId}", "/v1/lives/{liveId}/end" })
        {
            Assert.Contains($"\"{path}\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BothConfiguredKeysAreAcceptedAndCaseOfTheSchemeDoesNotMatter()
    {
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("bearer", GatewayFactory.GlobexKey);

        using var response = await client.PostAsync("/v1/rooms", "{}");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}

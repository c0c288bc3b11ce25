using System.Net;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Access;

[Collection(GatewayCollection.Name)]
public sealed class ApiKeysTests(GatewayFactory factory)
{
    private readonly HttpClient _acme = factory.CreateClient(GatewayFactory.AcmeKey);

    [Fact]
    public async Task AKeyIsShownOnceListedWithoutItsSecretAndWorksAsItsTenant()
    {
        var response = await _acme.PostAsync("/v1/api-keys", """{"name":"backend","scopes":["write"]}""");
        var created = await response.OkJsonAsync(HttpStatusCode.Created);
        var keyId = created.GetProperty("key_id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("key_", keyId, StringComparison.Ordinal);
        Assert.StartsWith("lgsk_", secret, StringComparison.Ordinal);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(secret) > 64, "secrets must be longer than HMAC-SHA256's block");
        Assert.Equal("backend", created.GetProperty("name").GetString());
        Assert.Equal("write", created.GetProperty("scopes")[0].GetString());

        var list = await (await _acme.GetAsync("/v1/api-keys")).Content.ReadAsStringAsync();
        Assert.Contains(keyId, list, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);
        Assert.DoesNotContain("\"secret\"", list, StringComparison.Ordinal);

        using var withKey = factory.Client(secret);
        var roomId = await withKey.CreateRoomAsync();
        await (await _acme.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AReadKeyCanOnlyReadAndAWriteKeyCannotManageKeys()
    {
        var roomId = await _acme.CreateRoomAsync();
        var read = await _acme.CreateKeyAsync("read");
        var write = await _acme.CreateKeyAsync("write");
        using var reader = factory.Client(read.Secret);
        using var writer = factory.Client(write.Secret);

        await (await reader.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        await (await reader.PostAsync("/v1/rooms", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await reader.PostAsync($"/v1/rooms/{roomId}/go-live", "{}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await reader.GetAsync("/v1/api-keys")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        await writer.GoLiveAsync(roomId);
        await (await writer.PostAsync("/v1/api-keys", """{"name":"x"}""")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await writer.GetAsync("/v1/api-keys")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await writer.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{read.KeyId}")).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        var admin = await _acme.CreateKeyAsync();
        using var administrator = factory.Client(admin.Secret);
        await (await administrator.PostAsync("/v1/api-keys", """{"name":"y","scopes":["read"]}""")).OkJsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task ADeletedKeyAndItsTokensAreRefusedWithinFiveSeconds()
    {
        var key = await _acme.CreateKeyAsync("write");
        var roomId = await _acme.CreateRoomAsync();
        using var withKey = factory.Client(key.Secret);
        using var withToken = factory.Client(key.Token("host-1", new { room = roomId, host = true }));
        await (await withKey.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();
        await (await withToken.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();

        using var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{key.KeyId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await withKey.GetAsync($"/v1/rooms/{roomId}")).OkJsonAsync();

        using var deleted = await _acme.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{key.KeyId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        await Eventually.TrueAsync(async () =>
            (await withKey.GetAsync($"/v1/rooms/{roomId}")).StatusCode == HttpStatusCode.Unauthorized
            && (await withToken.GetAsync($"/v1/rooms/{roomId}")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(5), "a revoked key must be refused within 5 s");
        await (await withKey.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.DoesNotContain(key.KeyId, await (await _acme.GetAsync("/v1/api-keys")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await (await _acme.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{key.KeyId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task AForgedSecretWithARealKeyIdIsRefused()
    {
        var key = await _acme.CreateKeyAsync();
        var forged = key.Secret[..^4] + (key.Secret.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        using var client = factory.Client(forged);

        await (await client.GetAsync("/v1/api-keys")).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Theory]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":"k","scopes":[]}""", "scopes")]
    [InlineData("""{"name":"k","scopes":["root"]}""", "scopes[0]")]
    [InlineData("""{"name":"k","secret":"mine"}""", "secret")]
    public async Task BadKeyRequestsAreValidationProblems(string body, string field)
    {
        await (await _acme.PostAsync("/v1/api-keys", body)).ValidationProblemAsync(field);
    }
}

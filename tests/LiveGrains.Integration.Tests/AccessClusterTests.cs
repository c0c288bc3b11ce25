using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests;

/// <summary>Managed keys on a real deployment: two gateway processes, two silos, Redis.</summary>
[Collection("real cluster")]
public sealed class AccessClusterTests
{
    [Fact]
    public async Task AKeyRevokedThroughOneGatewayIsRefusedByBothWithinFiveSeconds()
    {
        await using var cluster = await RealCluster.StartAsync();
        var admin = cluster.Clients[0];
        var roomId = "revoke-" + Guid.NewGuid().ToString("N")[..10];
        await admin.SendAsync(HttpMethod.Post, "/v1/rooms", $$"""{"room_id":"{{roomId}}"}""").ExpectAsync(HttpStatusCode.Created);
        var key = await admin.SendAsync(HttpMethod.Post, "/v1/api-keys", """{"name":"revoke-me","scopes":["write"]}""").ExpectAsync(HttpStatusCode.Created);
        var secret = key.Id("secret");
        var withSecret = cluster.Clients.Select(c => Client(c.BaseAddress!, secret)).ToList();
        var token = (await withSecret[0].SendAsync(HttpMethod.Post, "/v1/tokens", $$$"""{"sub":"alice","grants":{"room":"{{{roomId}}}","host":true}}""")
            .ExpectAsync(HttpStatusCode.Created)).Id("token");
        var withToken = cluster.Clients.Select(c => Client(c.BaseAddress!, token)).ToList();

        // Both gateways verify (and cache) the key and the token.
        foreach (var client in withSecret.Concat(withToken))
        {
            await client.SendAsync(HttpMethod.Get, $"/v1/rooms/{roomId}").ExpectAsync(HttpStatusCode.OK);
        }

        await admin.SendAsync(HttpMethod.Delete, $"/v1/api-keys/{key.Id("key_id")}").ExpectAsync(HttpStatusCode.NoContent);
        var clock = Stopwatch.StartNew();
        await Eventually.TrueAsync(async () =>
        {
            foreach (var client in withSecret.Concat(withToken))
            {
                if ((await client.SendAsync(HttpMethod.Get, $"/v1/rooms/{roomId}")).Status != HttpStatusCode.Unauthorized)
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(5), "a revoked key and its tokens are refused by every gateway within 5 s", TimeSpan.FromMilliseconds(100));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        await cluster.Clients[1].SendAsync(HttpMethod.Get, $"/v1/rooms/{roomId}").ExpectAsync(HttpStatusCode.OK);
    }

    private static HttpClient Client(Uri baseAddress, string bearer) => new()
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", bearer) },
    };
}

using System.Net;
using System.Text;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Compat;

/// <summary>
/// The real gateway with the settings the seed platforms' adapters read (a LiveKit server's key and secret, a watch-URL
/// template), shared by the compat tests.
/// </summary>
public sealed class CompatGatewayFactory : IDisposable
{
    public const string LiveKitApiKey = "APIcompatTest";
    public const string LiveKitApiSecret = "livekit-test-secret-of-some-length";

    public CompatGatewayFactory()
    {
        Gateway.Settings["Compat:LiveKit:ApiKey"] = LiveKitApiKey;
        Gateway.Settings["Compat:LiveKit:ApiSecret"] = LiveKitApiSecret;
        Gateway.Settings["Links:WatchUrlTemplate"] = "https://watch.example.com/{room_id}/{live_id}";
        Gateway.Settings["Ingest:RtmpBaseUrl"] = "rtmp://ingest.example.com:1935/live";
        Gateway.Settings["Ingest:WhipBaseUrl"] = "https://whip.example.com/live";

        // Gcore-format webhooks go to a receiver on loopback.
        Gateway.Settings["Webhooks:AllowPrivateNetworks"] = "true";
        Gateway.Settings["Webhooks:InitialBackoffMilliseconds"] = "50";
        Gateway.Settings["Webhooks:MaxBackoffMilliseconds"] = "1000";
        for (var i = 0; i < Shops; i++)
        {
            Gateway.Settings[$"Auth:ApiKeys:key-shop-{i}-0123456789"] = $"shop-{i}";
        }
    }

    /// <summary>Tenants of their own for tests whose resource is per tenant (a Fourthwall shop has one room).</summary>
    private const int Shops = 10;

    private int _nextShop = -1;

    public (string Key, string Tenant) NewShop()
    {
        var i = Interlocked.Increment(ref _nextShop);
        Assert.True(i < Shops, "more shops than the factory configured");
        return ($"key-shop-{i}-0123456789", $"shop-{i}");
    }

    public GatewayFactory Gateway { get; } = new();

    public HttpClient V1(string key = GatewayFactory.AcmeKey) => Gateway.CreateClient(key);

    /// <summary>A client with no credential: each test adds its platform's own header.</summary>
    public HttpClient Raw() => Gateway.CreateClient();

    public void Dispose() => Gateway.Dispose();
}

[CollectionDefinition(Name)]
public sealed class CompatCollection : ICollectionFixture<CompatGatewayFactory>
{
    public const string Name = "compat";
}

internal static class CompatTestKit
{
    public static async Task<HttpResponseMessage> SendAsync(
        this HttpClient client, HttpMethod method, string url, (string Name, string Value)? header, string? json = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (header is { } h)
        {
            request.Headers.TryAddWithoutValidation(h.Name, h.Value);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Creates a room (optionally with a host, title and policy) through /v1 and schedules a live in it.</summary>
    public static async Task<(string RoomId, string LiveId)> ScheduleAsync(
        this HttpClient v1, string? hostId = null, string? title = "Channel", string policy = "takeover", string? roomId = null)
    {
        roomId ??= HttpTestKit.NewRoomId();
        var room = JsonSerializer.Serialize(new { room_id = roomId, host_id = hostId, title, takeover_policy = policy });
        await (await v1.PostAsync("/v1/rooms", room)).OkJsonAsync(HttpStatusCode.Created);
        var live = await (await v1.PostAsync($"/v1/rooms/{roomId}/lives", "{}")).OkJsonAsync(HttpStatusCode.Created);
        return (roomId, live.GetProperty("live_id").GetString()!);
    }

    public static async Task<JsonElement> V1LiveAsync(this HttpClient v1, string liveId) =>
        await (await v1.GetAsync($"/v1/lives/{liveId}")).OkJsonAsync();

    /// <summary>
    /// Asserts that <paramref name="actual"/> has exactly the documented fields, recursively, and that every field with a
    /// value has the documented JSON type (a documented null says nothing about the type, an answered null is "unset").
    /// </summary>
    public static void AssertShape(string documented, JsonElement actual) =>
        AssertShape(JsonDocument.Parse(documented).RootElement, actual, "$");

    public static void AssertShape(JsonElement documented, JsonElement actual, string path)
    {
        if (documented.ValueKind == JsonValueKind.Null || actual.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        Assert.True(Kind(documented) == Kind(actual), $"{path}: documented {documented.ValueKind}, answered {actual.ValueKind} ({actual})");
        // A documented empty object ({} for custom_items, metadata) is a free map: any keys.
        if (documented.ValueKind == JsonValueKind.Object && documented.EnumerateObject().Any())
        {
            var expected = documented.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
            var answered = actual.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
            Assert.True(expected.SequenceEqual(answered),
                $"{path}: documented fields [{string.Join(", ", expected)}], answered [{string.Join(", ", answered)}]");
            foreach (var property in documented.EnumerateObject())
            {
                AssertShape(property.Value, actual.GetProperty(property.Name), path + "." + property.Name);
            }
        }
        else if (documented.ValueKind == JsonValueKind.Array && documented.GetArrayLength() > 0)
        {
            foreach (var item in actual.EnumerateArray())
            {
                AssertShape(documented[0], item, path + "[]");
            }
        }
    }

    private static JsonValueKind Kind(JsonElement element) => element.ValueKind == JsonValueKind.False ? JsonValueKind.True : element.ValueKind;

    public static Task WaitForAsync(Func<Task<bool>> condition, string what) =>
        Eventually.TrueAsync(condition, TimeSpan.FromSeconds(10), what);
}

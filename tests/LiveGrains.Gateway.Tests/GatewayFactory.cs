using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Grains;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LiveGrains.Gateway.Tests;

/// <summary>
/// The real gateway pipeline (co-hosted silo, in-memory state) on free Orleans ports, with two tenants'
/// keys and a fake LiveGrains clock (unless <see cref="FakeClock"/> is turned off). Shared per collection; tests use fresh ids.
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    public const string AcmeKey = "key-acme-0123456789";
    public const string GlobexKey = "key-globex-0123456789";

    /// <summary>A tenant of its own for tests that change tenant-wide settings (a default preset).</summary>
    public const string PresetsKey = "key-presets-0123456789";

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>
    /// Whether LiveGrains' rules run on <see cref="Time"/> (the default) or on the real clock, for tests that let real
    /// time pass instead of advancing the clock (webhook retries against a failing receiver). Set before the host starts.
    /// </summary>
    public bool FakeClock { get; set; } = true;

    public Dictionary<string, string?> Settings { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Auth:ApiKeys:" + AcmeKey, "acme");
        builder.UseSetting("Auth:ApiKeys:" + GlobexKey, "globex");
        builder.UseSetting("Auth:ApiKeys:" + PresetsKey, "presets");
        builder.UseSetting("Orleans:SiloPort", Testing.FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:GatewayPort", Testing.FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Orleans:ClusterId", "gw-tests-" + Guid.NewGuid().ToString("N"));
        builder.UseSetting("Gateway:MaxRequestBodyBytes", "65536");
        builder.UseSetting("Ingest:CallbackSecret", "test-hook-secret");
        builder.UseSetting("Webhooks:AllowPrivateNetworks", "true");
        builder.UseSetting("Links:WatchUrlTemplate", "https://watch.example.com/{room_id}/{live_id}");
        builder.UseSetting("Ingest:HlsBaseUrl", "http://localhost:8888/live");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        if (FakeClock)
        {
            builder.ConfigureServices(services => services.AddSingleton(new LiveGrainsClock(Time)));
        }
    }

    public HttpClient CreateClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFactory>
{
    public const string Name = "gateway";
}

public static class Http
{
    public static JsonSerializerOptions Json => LiveGrainsJson.Options;

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object? body) =>
        client.PostAsJsonAsync(url, body, Json);

    public static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];
}

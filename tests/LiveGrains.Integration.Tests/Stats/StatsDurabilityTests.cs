using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Stats;

/// <summary>
/// Write-behind stats on a real Redis-backed silo process behind a client-mode gateway process: a kill -9 loses
/// at most the last seconds of activity and never the viewer set; a graceful stop loses nothing.
/// </summary>
[Collection(StatsCollection.Name)]
public sealed class StatsDurabilityTests
{
    private const string Tenant = "acme";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KillingTheSiloLosesAtMostTheLastSecondsAndKeepsTheViewersAndAGracefulStopLosesNothing()
    {
        await using var redis = await RedisServer.StartAsync();
        var cluster = "stats-durability-" + Guid.NewGuid().ToString("N")[..8];
        var apiKey = "e2e-" + Guid.NewGuid().ToString("N");
        Dictionary<string, string?> Common() => new()
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
        };

        var siloUrl = Url();
        var siloEnvironment = Common();
        siloEnvironment["ASPNETCORE_URLS"] = siloUrl;
        siloEnvironment["Orleans__SiloPort"] = Port();
        siloEnvironment["Orleans__GatewayPort"] = Port();
        await using var silo = ServiceProcess.StartProject("LiveGrains.Silo", siloEnvironment, name: "silo");
        await silo.WaitForHttpAsync($"{siloUrl}/health", StartTimeout);

        var gatewayUrl = Url();
        var gatewayEnvironment = Common();
        gatewayEnvironment["Gateway__Mode"] = "client";
        gatewayEnvironment["ASPNETCORE_URLS"] = gatewayUrl;
        gatewayEnvironment["Auth__ApiKeys__" + apiKey] = Tenant;
        await using var gateway = ServiceProcess.StartProject("LiveGrains.Gateway", gatewayEnvironment, name: "gateway");
        await gateway.WaitForHttpAsync($"{gatewayUrl}/health", StartTimeout);
        string Describe() => $"\n--- silo ---\n{silo.Output.Tail(40)}\n--- gateway ---\n{gateway.Output.Tail(20)}";

        using var http = new HttpClient { BaseAddress = new Uri(gatewayUrl), Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var roomId = "room-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(http, "/v1/rooms", new { room_id = roomId })).StatusCode);
        var goLive = await PostAsync(http, $"/v1/rooms/{roomId}/go-live", new { });
        Assert.Equal(HttpStatusCode.Created, goLive.StatusCode);
        var liveId = (await JsonAsync(goLive)).GetProperty("live").GetProperty("live_id").GetString()!;

        var joins = Enumerable.Range(0, 2_000).Select(i => "viewer-" + i).ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(http, $"/v1/lives/{liveId}/activity", new { joins, likes = 100 })).StatusCode);
        await StatsWhenAsync(http, liveId, s => s.GetProperty("like_count").GetInt64() == 100, Describe);

        // The scenario is "more than the write-behind bound has passed": nothing to poll for but time.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(http, $"/v1/lives/{liveId}/likes", new { count = 50 })).StatusCode);
        silo.Kill();
        silo.Start();
        await silo.WaitForHttpAsync($"{siloUrl}/health", StartTimeout);

        var afterCrash = await StatsWhenAsync(http, liveId, s => s.GetProperty("like_count").GetInt64() >= 100, Describe);
        var likes = afterCrash.GetProperty("like_count").GetInt64();
        Assert.InRange(likes, 100, 150);
        Assert.Equal(2_000, afterCrash.GetProperty("viewer_count").GetInt64());
        Assert.Equal(2_000, afterCrash.GetProperty("unique_viewer_count").GetInt64());
        Assert.Equal(2_000, afterCrash.GetProperty("view_count").GetInt64());

        // A graceful stop right after a 202 flushes the silo's buffers and writes the stats before exiting.
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(http, $"/v1/lives/{liveId}/activity", new { likes = 7, leaves = new[] { "viewer-0" } })).StatusCode);
        Assert.True(await silo.StopAsync(TimeSpan.FromSeconds(30)), "the silo stops gracefully" + Describe());
        silo.Start();
        await silo.WaitForHttpAsync($"{siloUrl}/health", StartTimeout);

        var afterStop = await StatsWhenAsync(http, liveId, s => s.GetProperty("like_count").GetInt64() >= likes, Describe);
        Assert.Equal(likes + 7, afterStop.GetProperty("like_count").GetInt64());
        Assert.Equal(1_999, afterStop.GetProperty("viewer_count").GetInt64());
    }

    private static string Port() => FreePort.Next().ToString(CultureInfo.InvariantCulture);

    private static string Url() => $"http://127.0.0.1:{Port()}";

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, object body) =>
        http.PostAsJsonAsync(path, body, LiveGrainsJson.Options);

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static Task<JsonElement> StatsWhenAsync(HttpClient http, string liveId, Func<JsonElement, bool> accept, Func<string> describe) =>
        Eventually.ValueAsync(
            async () =>
            {
                using var response = await http.GetAsync($"/v1/lives/{liveId}/stats");
                return response.IsSuccessStatusCode ? await JsonAsync(response) : default;
            },
            s => s.ValueKind == JsonValueKind.Object && accept(s),
            Timeout,
            "the stats answer as expected" + describe());
}

/// <summary>Process tests start a silo and a gateway each: one at a time on a shared machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StatsCollection
{
    public const string Name = "stats-processes";
}

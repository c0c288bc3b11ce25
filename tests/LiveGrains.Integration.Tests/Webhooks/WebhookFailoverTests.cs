using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Testing;
using LiveGrains.Webhooks.Testing;

namespace LiveGrains.Integration.Tests.Webhooks;

/// <summary>
/// A Redis-backed cluster of two silo processes behind a client-mode gateway. While the receiver hangs and
/// then fails, one silo is killed (-9) with deliveries in flight; after recovery every event of every
/// resource has arrived, signed, in order, without gaps (duplicates allowed).
/// </summary>
public sealed class WebhookFailoverTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task NoEventIsLostOrReorderedWhenASiloDiesMidDelivery()
    {
        await using var redis = await RedisServer.StartAsync();
        var cluster = "webhook-failover-" + Guid.NewGuid().ToString("N")[..8];
        Dictionary<string, string?> Common() => new()
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__redis"] = redis.ConnectionString,
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["Webhooks__AllowPrivateNetworks"] = "true",
            ["Webhooks__InitialBackoffMilliseconds"] = "50",
            ["Webhooks__MaxBackoffMilliseconds"] = "1000",
            ["Webhooks__AttemptTimeoutSeconds"] = "2",
        };

        var silos = new List<(ServiceProcess Process, string Url)>();
        await using var silo1 = StartSilo("silo-1", Common(), silos);
        await using var silo2 = StartSilo("silo-2", Common(), silos);
        foreach (var (process, url) in silos)
        {
            await process.WaitForHttpAsync($"{url}/health", StartTimeout);
        }

        var gatewayUrl = $"http://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        var apiKey = "e2e-" + Guid.NewGuid().ToString("N");
        var gatewayEnvironment = Common();
        gatewayEnvironment["Gateway__Mode"] = "client";
        gatewayEnvironment["ASPNETCORE_URLS"] = gatewayUrl;
        gatewayEnvironment["Auth__ApiKeys__" + apiKey] = "webhook-tenant";
        await using var gateway = ServiceProcess.StartProject("LiveGrains.Gateway", gatewayEnvironment, name: "gateway");
        await gateway.WaitForHttpAsync($"{gatewayUrl}/health", StartTimeout);
        string Describe() => $"\n--- silo-1 ---\n{silo1.Output.Tail(30)}\n--- silo-2 ---\n{silo2.Output.Tail(30)}\n--- gateway ---\n{gateway.Output.Tail(30)}";

        using var api = new HttpClient { BaseAddress = new Uri(gatewayUrl), Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        await using var receiver = new WebhookReceiver(FreePort.Next());
        await receiver.StartAsync();
        var created = await PostAsync(api, "/v1/webhooks", new { url = receiver.Url });
        receiver.Secret = created.GetProperty("secret").GetString();

        var rooms = new List<string>();
        var lives = new List<string>();
        async Task DriveAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var roomId = "room-" + Guid.NewGuid().ToString("N")[..10];
                await PostAsync(api, "/v1/rooms", new { room_id = roomId });
                rooms.Add(roomId);
                var raced = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
                {
                    using var response = await api.PostAsJsonAsync($"/v1/rooms/{roomId}/go-live", new { }, LiveGrainsJson.Options);
                    return response.IsSuccessStatusCode
                        ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("live").GetProperty("live_id").GetString()
                        : null;
                }));
                lives.AddRange(raced.OfType<string>());
                await PostIgnoringConflictAsync(api, $"/v1/lives/{lives[^1]}/pause");
            }
        }

        await DriveAsync(5);
        await Eventually.TrueAsync(() => receiver.Acked.Count > 0, StartTimeout, "first deliveries" + Describe());

        // Deliveries in flight: the receiver hangs, then a silo dies with them.
        receiver.Mode = ReceiverMode.Hang;
        await DriveAsync(5);
        await Eventually.TrueAsync(() => receiver.Received.Count(r => !r.Acked) >= 3, StartTimeout, "hanging deliveries" + Describe());
        silo1.Kill();
        receiver.Mode = ReceiverMode.Fail500;
        await DriveAsync(5);
        receiver.Mode = ReceiverMode.Ack;
        foreach (var live in lives)
        {
            await PostIgnoringConflictAsync(api, $"/v1/lives/{live}/end");
        }

        // Resource logs that lived on the dead silo resume on a new event or on their durable reminder.
        await Eventually.TrueAsync(
            () => rooms.All(r => receiver.MaxSequences().ContainsKey("room:" + r))
                && lives.All(l => receiver.Acked.Any(a => a.Resource == "live:" + l && a.Type == "live.ended")),
            TimeSpan.FromSeconds(180),
            $"every room.created and live.ended delivered ({receiver.Acked.Count} acked)" + Describe(),
            TimeSpan.FromMilliseconds(500));
        Assert.Empty(receiver.OrderViolations());
        Assert.Empty(receiver.Rejected);
        foreach (var group in receiver.Acked.GroupBy(a => a.Resource))
        {
            var sequences = group.Select(a => a.Sequence).Distinct().Order().ToList();
            Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
        }

        Assert.True(silo2.IsRunning, Describe());
    }

    /// <summary>POSTs, retrying 503s while membership notices the dead silo (the API asks clients to retry).</summary>
    private static async Task<JsonElement> PostAsync(HttpClient api, string path, object body)
    {
        var retried = false;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await api.PostAsJsonAsync(path, body, LiveGrainsJson.Options);
            var text = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode == 503 && DateTime.UtcNow < deadline)
            {
                retried = true;
                await Task.Delay(250);
                continue;
            }

            if (retried && (int)response.StatusCode == 409)
            {
                return default; // the first try went through after all
            }

            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
            return JsonDocument.Parse(text).RootElement.Clone();
        }
    }

    private static async Task PostIgnoringConflictAsync(HttpClient api, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await api.PostAsJsonAsync(path, new { }, LiveGrainsJson.Options);
            if ((int)response.StatusCode != 503 || DateTime.UtcNow >= deadline)
            {
                return;
            }

            await Task.Delay(250);
        }
    }

    private static ServiceProcess StartSilo(string name, Dictionary<string, string?> environment, List<(ServiceProcess, string)> silos)
    {
        var url = $"http://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        environment["ASPNETCORE_URLS"] = url;
        environment["Orleans__SiloPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        environment["Orleans__GatewayPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        var silo = ServiceProcess.StartProject("LiveGrains.Silo", environment, name: name);
        silos.Add((silo, url));
        return silo;
    }
}

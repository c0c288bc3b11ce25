using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests;

/// <summary>
/// A real deployment on loopback: a real store (redis-server or Azurite, <see cref="ClusterStore"/>), two
/// LiveGrains.Silo processes and two LiveGrains.Gateway processes in client mode, all on free ports, with a cluster id
/// of its own. Stop and start it like an operator.
/// </summary>
public sealed class RealCluster : IAsyncDisposable
{
    public const string ApiKey = "it-key-0123456789";
    public const string Tenant = "acme";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly List<ServiceProcess> _silos = [];
    private readonly List<ServiceProcess> _gateways = [];
    private readonly List<string> _gatewayUrls = [];

    private RealCluster(ClusterStore store, string clusterId)
    {
        Store = store;
        ClusterId = clusterId;
    }

    /// <summary>Orleans:ClusterId and Orleans:ServiceId of every process.</summary>
    public string ClusterId { get; }

    /// <summary>Membership, grain state and reminders of this cluster.</summary>
    public ClusterStore Store { get; }

    public IReadOnlyList<ServiceProcess> Silos => _silos;

    public IReadOnlyList<HttpClient> Clients { get; private set; } = [];

    /// <summary>The typed client (src/LiveGrains.Client) over each gateway's HttpClient: no retry handler, so every outcome is seen.</summary>
    public IReadOnlyList<LiveGrains.Client.LiveGrainsClient> ApiClients => [.. Clients.Select(c => new LiveGrains.Client.LiveGrainsClient(c))];

    public static async Task<RealCluster> StartAsync(StorageBackend backend = StorageBackend.Redis)
    {
        var store = await ClusterStore.StartAsync(backend);
        var clusterId = "it-" + Guid.NewGuid().ToString("N")[..12];
        var cluster = new RealCluster(store, clusterId);
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var port = FreePort.Next();
                cluster._silos.Add(new ServiceProcess(RepoPaths.ProjectDll("LiveGrains.Silo"), Common(store, clusterId).Concat(
                [
                    new("Orleans__SiloPort", FreePort.Next().ToString(CultureInfo.InvariantCulture)),
                    new("Orleans__GatewayPort", FreePort.Next().ToString(CultureInfo.InvariantCulture)),
                    new("ASPNETCORE_URLS", $"http://127.0.0.1:{port}"),
                ]), ["--urls", $"http://127.0.0.1:{port}"], $"silo{i + 1}"));
                cluster._silos[^1].Environment["IT_URL"] = $"http://127.0.0.1:{port}";
            }

            for (var i = 0; i < 2; i++)
            {
                var port = FreePort.Next();
                var url = $"http://127.0.0.1:{port}";
                cluster._gatewayUrls.Add(url);
                cluster._gateways.Add(new ServiceProcess(RepoPaths.ProjectDll("LiveGrains.Gateway"), Common(store, clusterId).Concat(
                [
                    new("Gateway__Mode", "client"),
                    new("Auth__ApiKeys__" + ApiKey, Tenant),
                    new("ASPNETCORE_URLS", url),
                ]), ["--urls", url], $"gateway{i + 1}"));
            }

            cluster.Clients = cluster._gatewayUrls.Select(u => new HttpClient
            {
                BaseAddress = new Uri(u),
                Timeout = TimeSpan.FromSeconds(60),
                DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", ApiKey) },
            }).ToList();
            await cluster.StartProcessesAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts every stopped process and waits until each gateway can reach the cluster.</summary>
    public async Task StartProcessesAsync()
    {
        if (!Store.IsRunning)
        {
            await Store.StartAsync();
        }

        foreach (var silo in _silos.Where(s => !s.IsRunning))
        {
            silo.Start();
        }

        await Task.WhenAll(_silos.Select(s => s.WaitForHttpAsync(s.Environment["IT_URL"] + "/alive", StartTimeout)));
        foreach (var gateway in _gateways.Where(g => !g.IsRunning))
        {
            gateway.Start();
        }

        await Task.WhenAll(_gateways.Select((g, i) => g.WaitForHttpAsync(_gatewayUrls[i] + "/health", StartTimeout)));
    }

    /// <summary>Stops gateways, silos and the store gracefully (SIGTERM; Redis SHUTDOWN), as an operator's full restart would.</summary>
    public async Task StopEverythingAsync()
    {
        await Task.WhenAll(_gateways.Select(g => g.StopAsync()));
        await Task.WhenAll(_silos.Select(s => s.StopAsync(TimeSpan.FromSeconds(15))));
        await Store.StopAsync();
    }

    public string Describe() =>
        $"Store: {Store.Backend}\n" + string.Join("\n\n", _silos.Concat(_gateways).Select(p => p.Describe(60)));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in Clients)
        {
            client.Dispose();
        }

        foreach (var process in _gateways.Concat(_silos))
        {
            await process.DisposeAsync();
        }

        await Store.DisposeAsync();
    }

    private static IEnumerable<KeyValuePair<string, string?>> Common(ClusterStore store, string clusterId) =>
    [
        .. store.Environment,
        new("Orleans__ClusterId", clusterId),
        new("Orleans__ServiceId", clusterId),
        new("Orleans__ResponseTimeoutSeconds", "30"),
        new("ASPNETCORE_ENVIRONMENT", "Production"),
        new("Logging__LogLevel__Default", "Warning"),
    ];
}

internal static class Api
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(this HttpClient client, HttpMethod method, string url, string? json = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> ExpectAsync(this Task<(HttpStatusCode Status, JsonElement Body)> call, HttpStatusCode expected)
    {
        var (status, body) = await call;
        Assert.True(status == expected, $"Expected {(int)expected} but got {(int)status}: {body}");
        return body;
    }

    public static string Id(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    /// <summary>The room's whole history, following next_cursor to the end.</summary>
    public static async Task<List<JsonElement>> AllLivesAsync(this HttpClient client, string roomId)
    {
        var all = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await client.SendAsync(HttpMethod.Get, $"/v1/rooms/{roomId}/lives?limit=100" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor)))
                .ExpectAsync(HttpStatusCode.OK);
            all.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("next_cursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        return all;
    }
}

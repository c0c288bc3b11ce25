using System.Globalization;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Ingest;

/// <summary>
/// The reconnect window is a durable reminder, not only a timer: a cluster of two silo processes on Redis or on Azure
/// Storage (Azurite) behind a client-mode gateway, the stream's silo is killed (-9) right after the disconnect, and the survivor
/// still ends the live with reconnect_timeout.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class ReconnectWindowFailoverTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(StorageBackend.Redis)]
    [InlineData(StorageBackend.Azure)]
    public async Task TheWindowStillEndsTheLiveWhenTheSiloHoldingTheStreamIsKilled(StorageBackend backend)
    {
        await using var store = await ClusterStore.StartAsync(backend);
        var cluster = "ingest-failover-" + Guid.NewGuid().ToString("N")[..8];
        Dictionary<string, string?> Common() => new(store.Environment)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
        };

        var silos = new List<(ServiceProcess Process, string Url)>();
        await using var silo1 = StartSilo("silo-1", Common(), silos);
        await using var silo2 = StartSilo("silo-2", Common(), silos);
        foreach (var (process, url) in silos)
        {
            await process.WaitForHttpAsync($"{url}/health", IngestApi.StartTimeout);
        }

        var gatewayUrl = $"http://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        var apiKey = "e2e-" + Guid.NewGuid().ToString("N");
        var gatewayEnvironment = Common();
        gatewayEnvironment["Gateway__Mode"] = "client";
        gatewayEnvironment["ASPNETCORE_URLS"] = gatewayUrl;
        gatewayEnvironment["Ingest__CallbackSecret"] = IngestApi.HookSecret;
        gatewayEnvironment["Auth__ApiKeys__" + apiKey] = IngestApi.Tenant;
        await using var gateway = ServiceProcess.StartProject("LiveGrains.Gateway", gatewayEnvironment, name: "gateway");
        await gateway.WaitForHttpAsync($"{gatewayUrl}/health", IngestApi.StartTimeout);
        using var api = new IngestApi(gatewayUrl, apiKey);
        string Describe() => $"\n--- silo-1 ---\n{silo1.Output.Tail(30)}\n--- silo-2 ---\n{silo2.Output.Tail(30)}\n--- gateway ---\n{gateway.Output.Tail(30)}";

        var roomId = await api.CreateRoomAsync();
        var (streamId, key) = await api.CreateStreamAsync(roomId, reconnectWindowSeconds: 3);
        Assert.Equal(200, await api.NginxCallbackAsync("publish", key, "1"));
        var liveId = (await api.GetStreamAsync(streamId)).GetProperty("live_id").GetString()!;
        Assert.Equal(200, await api.NginxCallbackAsync("publish_done", key, "1"));

        // The stream grain logs its disconnect on the silo that hosts it: that one dies, before the window passes.
        var marker = $"Stream {streamId}: disconnected";
        await Eventually.TrueAsync(() => silo1.Output.Contains(marker) || silo2.Output.Contains(marker), Timeout, "a silo logs the disconnect" + Describe());
        var owner = silo1.Output.Contains(marker) ? silo1 : silo2;
        var survivor = owner == silo1 ? silo2 : silo1;
        owner.Kill();

        // Membership notices the death in seconds; the survivor takes over the reminder range and fires it.
        var ended = await api.WaitForLiveAsync(liveId, "ended", TimeSpan.FromSeconds(90), Describe);
        Assert.Equal("reconnect_timeout", ended.GetProperty("end_reason").GetString());
        Assert.Equal("idle", (await api.GetStreamAsync(streamId)).GetProperty("status").GetString());
        Assert.True(survivor.IsRunning, Describe());
        Assert.True(survivor.Output.Contains($"Stream {streamId}: reconnect window passed"), "the survivor settled the window" + Describe());
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

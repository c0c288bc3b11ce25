using System.Globalization;
using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using LiveGrains.Testing;

namespace LiveGrains.Integration.Tests.Chaos;

/// <summary>
/// The failover pieces of issue 11 (membership fence, fail-fast handler, short directory hold) on Azure Table
/// membership: a silo paused until the cluster declares it dead in the table stops by itself when it resumes, and its
/// rooms answer from the survivor meanwhile. (On Redis the chaos harness covers the same, FailoverTests.)
/// </summary>
[Collection("real cluster")]
public sealed class AzureMembershipFenceTests
{
    [Fact]
    public async Task ASiloPausedUntilTheAzureTableSaysDeadStopsOnResumeWhileTheSurvivorServesItsRooms()
    {
        await using var cluster = await RealCluster.StartAsync(StorageBackend.Azure);
        var rooms = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var roomId = "fence-" + Guid.NewGuid().ToString("N")[..10];
            await cluster.Clients[0].SendAsync(HttpMethod.Post, "/v1/rooms", $$"""{"room_id":"{{roomId}}"}""").ExpectAsync(HttpStatusCode.Created);
            await cluster.Clients[0].SendAsync(HttpMethod.Post, $"/v1/rooms/{roomId}/go-live", "{}").ExpectAsync(HttpStatusCode.Created);
            rooms.Add(roomId);
        }

        var paused = cluster.Silos[0];
        var survivor = cluster.Silos[1];
        var port = paused.Environment["Orleans__SiloPort"]!;
        var membership = new TableClient(cluster.Store.Environment["ConnectionStrings__azure-storage"], "OrleansSiloInstances");
        Assert.Equal("Active", await StatusAsync(membership, cluster.ClusterId, port));

        Assert.True(PosixSignals.Send(paused.ProcessId!.Value, PosixSignals.SigStop));
        try
        {
            await Eventually.TrueAsync(
                async () => await StatusAsync(membership, cluster.ClusterId, port) == "Dead",
                TimeSpan.FromSeconds(60),
                $"the survivor declares the paused silo Dead in the Azure table. {cluster.Describe()}");

            // Every room answers through the survivor while the paused silo is still frozen.
            foreach (var roomId in rooms)
            {
                await Eventually.TrueAsync(
                    async () => (await cluster.Clients[1].SendAsync(HttpMethod.Get, $"/v1/rooms/{roomId}")).Status == HttpStatusCode.OK,
                    TimeSpan.FromSeconds(30),
                    $"room {roomId} answers after its silo was declared dead. {cluster.Describe()}");
            }
        }
        finally
        {
            PosixSignals.Send(paused.ProcessId!.Value, PosixSignals.SigCont);
        }

        // Resumed, it reads its own row as Dead and stops at once (FailFastFatalErrorHandler), serving nothing stale.
        await Eventually.TrueAsync(() => !paused.IsRunning, TimeSpan.FromSeconds(15), $"the resumed silo stops by itself. {paused.Describe(40)}");
        Assert.True(paused.Output.Contains("LiveGrains: fatal error"), paused.Describe(40));
        Assert.True(survivor.IsRunning, survivor.Describe(40));
        foreach (var roomId in rooms)
        {
            var room = await cluster.Clients[0].SendAsync(HttpMethod.Get, $"/v1/rooms/{roomId}").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(JsonValueKind.String, room.GetProperty("active_live_id").ValueKind);
        }
    }

    /// <summary>The Status column of the silo's row (Orleans' SiloInstanceTableEntry: partition = cluster id).</summary>
    private static async Task<string?> StatusAsync(TableClient membership, string clusterId, string port)
    {
        string? status = null;
        await foreach (var row in membership.QueryAsync<TableEntity>(e => e.PartitionKey == clusterId))
        {
            // The table version row has no Port.
            if (row.TryGetValue("Port", out var value) && string.Equals(Convert.ToString(value, CultureInfo.InvariantCulture), port, StringComparison.Ordinal))
            {
                // A restarted silo would add a row of a new generation; this test starts each silo once.
                status = row.GetString("Status");
            }
        }

        return status;
    }
}

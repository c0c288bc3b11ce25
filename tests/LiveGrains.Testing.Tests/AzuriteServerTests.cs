using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace LiveGrains.Testing.Tests;

public sealed class AzuriteServerTests
{
    [Fact]
    public async Task AStartedServerStoresTablesAndBlobsOnItsLoopbackPorts()
    {
        await using var azurite = await AzuriteServer.StartAsync();

        Assert.True(azurite.IsRunning);
        Assert.Equal(3, new[] { azurite.BlobPort, azurite.QueuePort, azurite.TablePort }.Distinct().Count());
        Assert.Contains($"TableEndpoint=http://127.0.0.1:{azurite.TablePort}/devstoreaccount1;", azurite.ConnectionString);
        Assert.True(await azurite.IsAnsweringAsync(), azurite.Describe());

        var table = new TableClient(azurite.ConnectionString, "rooms");
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity("acme", "room-1") { ["Title"] = "Morning show" });
        Assert.Equal("Morning show", (await table.GetEntityAsync<TableEntity>("acme", "room-1")).Value.GetString("Title"));

        var blob = await BlobAsync(azurite, "state", "room-1.bin");
        await blob.UploadAsync(BinaryData.FromString("live"));
        Assert.Equal("live", (await blob.DownloadContentAsync()).Value.Content.ToString());
    }

    [Fact]
    public async Task AWriteWithAStaleETagIsRejected()
    {
        // The Orleans providers rely on this for single-writer grain state: the emulator must enforce it like Azure.
        await using var azurite = await AzuriteServer.StartAsync();
        var blob = await BlobAsync(azurite, "state", "room.bin");
        var first = (await blob.UploadAsync(BinaryData.FromString("v1"))).Value.ETag;
        await blob.UploadAsync(BinaryData.FromString("v2"), overwrite: true);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => blob.UploadAsync(
            BinaryData.FromString("stale"), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = first } }));

        Assert.Equal(412, error.Status);
        Assert.Equal("v2", (await blob.DownloadContentAsync()).Value.Content.ToString());
    }

    [Fact]
    public async Task DataWrittenBeforeAGracefulStopSurvivesARestartOnTheSamePorts()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var ports = (azurite.BlobPort, azurite.QueuePort, azurite.TablePort);
        var pid = azurite.ProcessId;
        var table = new TableClient(azurite.ConnectionString, "lives");
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity("room-1", "lv_1") { ["Status"] = "live" });
        await (await BlobAsync(azurite, "state", "room-1.bin")).UploadAsync(BinaryData.FromString("on air"));

        await azurite.RestartAsync(AzuriteStopMode.Graceful);

        Assert.Equal(ports, (azurite.BlobPort, azurite.QueuePort, azurite.TablePort));
        Assert.NotEqual(pid, azurite.ProcessId);
        Assert.Equal("live", (await table.GetEntityAsync<TableEntity>("room-1", "lv_1")).Value.GetString("Status"));
        Assert.Equal("on air", (await (await BlobAsync(azurite, "state", "room-1.bin")).DownloadContentAsync()).Value.Content.ToString());
    }

    [Fact]
    public async Task WithInMemoryPersistenceARestartStartsEmpty()
    {
        await using var azurite = await AzuriteServer.StartAsync(new AzuriteServerOptions { InMemoryPersistence = true });
        var table = new TableClient(azurite.ConnectionString, "volatile");
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity("p", "r"));

        await azurite.RestartAsync(AzuriteStopMode.Graceful);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetEntityAsync<TableEntity>("p", "r"));
        Assert.Equal(404, error.Status);
        Assert.Empty(Directory.EnumerateFiles(azurite.DataDirectory, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AStoppedServerRefusesConnectionsUntilStartedAgain()
    {
        await using var azurite = await AzuriteServer.StartAsync();

        await azurite.StopAsync(AzuriteStopMode.Kill);
        Assert.False(azurite.IsRunning);
        Assert.False(await azurite.IsAnsweringAsync());

        await azurite.StartAsync();
        Assert.True(await azurite.IsAnsweringAsync(), azurite.Describe());
    }

    [Fact]
    public async Task TwoServersRunSideBySide()
    {
        await using var first = await AzuriteServer.StartAsync();
        await using var second = await AzuriteServer.StartAsync();

        Assert.NotEqual(first.BlobPort, second.BlobPort);
        Assert.NotEqual(first.DataDirectory, second.DataDirectory);
        await (await BlobAsync(first, "which", "server")).UploadAsync(BinaryData.FromString("first"));
        Assert.False((await new BlobContainerClient(second.ConnectionString, "which").ExistsAsync()).Value);
    }

    [Fact]
    public async Task DisposingKillsTheServerAndRemovesItsData()
    {
        var azurite = await AzuriteServer.StartAsync();
        var port = azurite.TablePort;
        var directory = azurite.DataDirectory;

        await azurite.DisposeAsync();

        Assert.False(await FreePort.IsListeningAsync(port));
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task AMissingAzuriteIsInstalledWithNpmIntoTheInstallDirectory()
    {
        var installDirectory = TestDirectories.Create("azurite-install");
        try
        {
            var options = new AzuriteServerOptions { SearchPath = false, InstallDirectory = installDirectory };
            await using var azurite = await AzuriteServer.StartAsync(options);

            Assert.Equal(Path.Combine(installDirectory, "node_modules", ".bin", "azurite"), azurite.ExecutablePath);
            Assert.True(await azurite.IsAnsweringAsync(), azurite.Describe());

            // A second start finds the install instead of installing again.
            Assert.Equal(azurite.ExecutablePath, await AzuriteServer.FindOrInstallAsync(options with { NpmPath = "/nonexistent/npm" }));
        }
        finally
        {
            TestDirectories.TryDelete(installDirectory);
        }
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public async Task AFailedNpmInstallIsRunAgainUpToThreeTimes(int failures, bool installs)
    {
        var installDirectory = TestDirectories.Create("azurite-install");
        try
        {
            // An npm that fails its first `failures` runs (as a registry hiccup does) and then installs a stand-in azurite.
            var npm = Path.Combine(installDirectory, "fake-npm");
            await File.WriteAllTextAsync(npm, $$"""
                #!/bin/sh
                prefix="$3"
                runs=$(cat "$prefix/runs" 2>/dev/null || echo 0)
                echo $((runs + 1)) > "$prefix/runs"
                if [ "$runs" -lt {{failures}} ]; then echo "npm error code ECONNRESET" >&2; exit 1; fi
                mkdir -p "$prefix/node_modules/.bin" && printf '#!/bin/sh\n' > "$prefix/node_modules/.bin/azurite"
                """);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(npm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var options = new AzuriteServerOptions { SearchPath = false, InstallDirectory = installDirectory, NpmPath = npm, InstallRetryDelay = TimeSpan.FromMilliseconds(50) };

            if (installs)
            {
                Assert.Equal(Path.Combine(installDirectory, "node_modules", ".bin", "azurite"), await AzuriteServer.FindOrInstallAsync(options));
            }
            else
            {
                var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AzuriteServer.FindOrInstallAsync(options));
                Assert.Contains("npm install azurite failed 3 times", error.Message);
            }

            Assert.Equal(installs ? failures + 1 : 3, int.Parse((await File.ReadAllTextAsync(Path.Combine(installDirectory, "runs"))).Trim()));
        }
        finally
        {
            TestDirectories.TryDelete(installDirectory);
        }
    }

    [Fact]
    public async Task WithoutNpmAMissingAzuriteFailsWithAClearMessage()
    {
        var installDirectory = TestDirectories.Create("azurite-install");
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AzuriteServer.StartAsync(
                new AzuriteServerOptions { SearchPath = false, InstallDirectory = installDirectory, NpmPath = "/nonexistent/npm" }));

            Assert.Contains("azurite is not installed", error.Message);
            Assert.Contains("npm install -g azurite", error.Message);
        }
        finally
        {
            TestDirectories.TryDelete(installDirectory);
        }
    }

    [Fact]
    public async Task AnExplicitPathThatDoesNotExistFailsInsteadOfInstalling()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => AzuriteServer.StartAsync(new AzuriteServerOptions { ExecutablePath = "/nonexistent/azurite" }));

        Assert.Contains("/nonexistent/azurite", error.Message);
    }

    private static async Task<BlobClient> BlobAsync(AzuriteServer azurite, string container, string name)
    {
        var client = new BlobContainerClient(azurite.ConnectionString, container);
        await client.CreateIfNotExistsAsync();
        return client.GetBlobClient(name);
    }
}

public sealed class AzuriteServerAsFixtureTests(AzuriteServer azurite) : IClassFixture<AzuriteServer>
{
    [Fact]
    public async Task XunitStartsTheFixtureBeforeTheTests()
    {
        Assert.True(azurite.IsRunning);
        Assert.True(await azurite.IsAnsweringAsync(), azurite.Describe());
    }
}

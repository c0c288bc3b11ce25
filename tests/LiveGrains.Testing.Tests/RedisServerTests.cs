namespace LiveGrains.Testing.Tests;

public sealed class RedisServerTests
{
    [Fact]
    public async Task AStartedServerAnswersOnItsLoopbackPort()
    {
        await using var redis = await RedisServer.StartAsync();

        Assert.True(redis.IsRunning);
        Assert.Equal($"127.0.0.1:{redis.Port}", redis.ConnectionString);
        Assert.True(await redis.PingAsync(), redis.Describe());
        Assert.Equal("OK", await redis.ExecuteAsync("SET", "greeting", "hello"));
        Assert.Equal("hello", await redis.ExecuteAsync("GET", "greeting"));
        Assert.Null(await redis.ExecuteAsync("GET", "missing"));
        Assert.Equal("yes", (await redis.ExecuteAsync("CONFIG", "GET", "appendonly"))!.Split('\n')[1]);
        Assert.Equal("everysec", (await redis.ExecuteAsync("CONFIG", "GET", "appendfsync"))!.Split('\n')[1]);
    }

    [Fact]
    public async Task DataWrittenBeforeAShutdownSurvivesARestartOnTheSamePort()
    {
        await using var redis = await RedisServer.StartAsync();
        var port = redis.Port;
        var pid = redis.ProcessId;
        await redis.ExecuteAsync("SET", "room:1", "live");

        await redis.RestartAsync(RedisStopMode.Shutdown);

        Assert.Equal(port, redis.Port);
        Assert.NotEqual(pid, redis.ProcessId);
        Assert.Equal("live", await redis.ExecuteAsync("GET", "room:1"));
        Assert.True(Directory.Exists(Path.Combine(redis.DataDirectory, "appendonlydir")), redis.Describe());
    }

    [Fact]
    public async Task AcknowledgedWritesSurviveAKillWhenFsyncIsAlways()
    {
        await using var redis = await RedisServer.StartAsync(new RedisServerOptions { AppendFsync = "always" });
        for (var i = 0; i < 50; i++)
        {
            await redis.ExecuteAsync("INCR", "counter");
        }

        await redis.RestartAsync(RedisStopMode.Kill);

        Assert.Equal("50", await redis.ExecuteAsync("GET", "counter"));
    }

    [Fact]
    public async Task WithoutAppendOnlyAKillLosesTheData()
    {
        await using var redis = await RedisServer.StartAsync(new RedisServerOptions { AppendOnly = false });
        await redis.ExecuteAsync("SET", "volatile", "1");

        await redis.RestartAsync(RedisStopMode.Kill);

        Assert.Null(await redis.ExecuteAsync("GET", "volatile"));
    }

    [Fact]
    public async Task AStoppedServerRefusesConnectionsUntilStartedAgain()
    {
        await using var redis = await RedisServer.StartAsync();

        await redis.StopAsync(RedisStopMode.Kill);
        Assert.False(redis.IsRunning);
        Assert.False(await redis.PingAsync());

        await redis.StartAsync();
        Assert.True(await redis.PingAsync(), redis.Describe());
    }

    [Fact]
    public async Task TwoServersRunSideBySide()
    {
        await using var first = await RedisServer.StartAsync();
        await using var second = await RedisServer.StartAsync();

        Assert.NotEqual(first.Port, second.Port);
        Assert.NotEqual(first.DataDirectory, second.DataDirectory);
        await first.ExecuteAsync("SET", "which", "first");
        Assert.Null(await second.ExecuteAsync("GET", "which"));
    }

    [Fact]
    public async Task DisposingKillsTheServerAndRemovesItsData()
    {
        var redis = await RedisServer.StartAsync();
        var port = redis.Port;
        var directory = redis.DataDirectory;

        await redis.DisposeAsync();

        Assert.False(await Resp.PingAsync(port));
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task AMissingRedisBinaryFailsWithAClearMessage()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => RedisServer.StartAsync(new RedisServerOptions { ExecutablePath = "/nonexistent/redis-server" }));

        Assert.Contains("not installed", error.Message);
        Assert.Contains("apt-get install redis-server", error.Message);
    }

    [Fact]
    public async Task AnErrorReplyThrows()
    {
        await using var redis = await RedisServer.StartAsync();

        var error = await Assert.ThrowsAsync<RedisErrorException>(() => redis.ExecuteAsync("NOSUCHCOMMAND"));

        Assert.StartsWith("ERR", error.Message);
    }
}

public sealed class RedisServerAsFixtureTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task XunitStartsTheFixtureBeforeTheTests()
    {
        Assert.True(redis.IsRunning);
        Assert.True(await redis.PingAsync(), redis.Describe());
    }
}

public sealed class AlwaysFsyncRedis() : RedisServer(new RedisServerOptions { AppendFsync = "always" });

public sealed class DerivedRedisFixtureTests(AlwaysFsyncRedis redis) : IClassFixture<AlwaysFsyncRedis>
{
    [Fact]
    public async Task ADerivedFixtureRunsWithItsOwnOptions()
    {
        Assert.Equal("always", (await redis.ExecuteAsync("CONFIG", "GET", "appendfsync"))!.Split('\n')[1]);
    }
}

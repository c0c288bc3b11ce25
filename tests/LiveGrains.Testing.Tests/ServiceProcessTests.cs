using System.Diagnostics;

namespace LiveGrains.Testing.Tests;

public sealed class ServiceProcessTests
{
    private const string SampleProject = "LiveGrains.Testing.SampleService";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task AServiceRunsWithTheGivenEnvironmentAndArguments()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var service = ServiceProcess.StartProject(
            SampleProject,
            new Dictionary<string, string?> { ["SAMPLE_GREETING"] = "hello from the test" },
            ["--urls", url]);

        await service.WaitForHttpAsync($"{url}/healthz", StartTimeout);

        Assert.True(service.IsRunning);
        Assert.Equal("hello from the test", await Http.GetStringAsync($"{url}/env/SAMPLE_GREETING"));
        Assert.Equal($"--urls {url}", await Http.GetStringAsync($"{url}/args"));
        Assert.Equal(service.ProcessId.ToString(), await Http.GetStringAsync($"{url}/pid"));
        await service.WaitForOutputAsync("sample-service: started", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task WaitForHttpPollsUntilTheServiceAnswers200()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var service = ServiceProcess.StartProject(
            SampleProject,
            new Dictionary<string, string?> { ["Sample__StartDelayMilliseconds"] = "1500" },
            ["--urls", url]);

        await service.WaitForHttpAsync($"{url}/healthz", StartTimeout);

        using var response = await Http.GetAsync($"{url}/healthz");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StopSendsSigtermAndTheHostShutsDownGracefully()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var service = ServiceProcess.StartProject(SampleProject, arguments: ["--urls", url]);
        await service.WaitForHttpAsync($"{url}/healthz", StartTimeout);

        var exitedByItself = await service.StopAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitedByItself, service.Describe());
        Assert.False(service.IsRunning);
        Assert.Equal(0, service.ExitCode);
        Assert.True(service.Output.Contains("sample-service: stopping gracefully"), service.Describe());
    }

    [Fact]
    public async Task AKilledServiceIsGoneAtOnceAndARestartBringsItBack()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var service = ServiceProcess.StartProject(SampleProject, arguments: ["--urls", url]);
        await service.WaitForHttpAsync($"{url}/healthz", StartTimeout);
        var firstPid = service.ProcessId;

        service.Kill();

        Assert.False(service.IsRunning);
        Assert.Equal(128 + PosixSignals.SigKill, service.ExitCode);
        Assert.False(service.Output.Contains("sample-service: stopping gracefully"));

        await service.RestartAsync();
        await service.WaitForHttpAsync($"{url}/healthz", StartTimeout);

        Assert.NotEqual(firstPid, service.ProcessId);
        Assert.Equal(service.ProcessId.ToString(), await Http.GetStringAsync($"{url}/pid"));
    }

    [Fact]
    public async Task WaitForHttpFailsFastWithTheOutputWhenTheServiceExits()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var service = ServiceProcess.StartProject(
            SampleProject,
            new Dictionary<string, string?> { ["Sample__ExitAtStart"] = "true" },
            ["--urls", url]);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => service.WaitForHttpAsync($"{url}/healthz", TimeSpan.FromMinutes(5)));

        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"took {clock.Elapsed}");
        Assert.Contains("exited with code 3", error.Message);
        Assert.Contains("sample-service: exiting at start as configured", error.Message);
    }

    [Fact]
    public void ProjectDllMatchesTheConfigurationTheTestsWereBuiltWith()
    {
#if DEBUG
        const string expected = "Debug";
#else
        const string expected = "Release";
#endif
        Assert.Equal(expected, RepoPaths.Configuration);
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "LiveGrains.sln")));

        var dll = RepoPaths.ProjectDll(SampleProject);

        Assert.Equal(
            Path.Combine(RepoPaths.Root, "tests", SampleProject, "bin", expected, "net10.0", SampleProject + ".dll"),
            dll);
        Assert.True(File.Exists(dll));
    }

    [Fact]
    public void AnUnknownProjectFailsWithAClearMessage()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => RepoPaths.ProjectDll("LiveGrains.NoSuchProject"));

        Assert.Contains("LiveGrains.NoSuchProject", error.Message);
    }
}

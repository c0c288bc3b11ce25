namespace LiveGrains.Testing.Tests;

public sealed class EventuallyTests
{
    [Fact]
    public async Task TrueAsyncReturnsOnceTheConditionHolds()
    {
        var calls = 0;

        await Eventually.TrueAsync(() => Task.FromResult(++calls >= 3), TimeSpan.FromSeconds(10), "the third call");

        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task TrueAsyncNamesWhatItWaitedForWhenTheDeadlinePasses()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Eventually.TrueAsync(() => false, TimeSpan.FromMilliseconds(200), "pigs fly"));

        Assert.Contains("waiting until pigs fly", error.Message);
    }

    [Fact]
    public async Task AThrowingConditionIsRetriedAndReportedIfItNeverSucceeds()
    {
        var calls = 0;
        await Eventually.TrueAsync(
            () => ++calls < 3 ? throw new InvalidOperationException("not yet") : true,
            TimeSpan.FromSeconds(10),
            "the condition stops throwing");
        Assert.Equal(3, calls);

        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Eventually.TrueAsync(bool () => throw new InvalidOperationException("still broken"), TimeSpan.FromMilliseconds(200), "it works"));
        Assert.Contains("still broken", error.Message);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public async Task ValueAsyncReturnsTheAcceptedValueOrReportsTheLastOne()
    {
        var next = 0;
        Assert.Equal(5, await Eventually.ValueAsync(() => Task.FromResult(++next), v => v == 5, TimeSpan.FromSeconds(10), "five"));

        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Eventually.ValueAsync(() => Task.FromResult("stale"), v => v == "fresh", TimeSpan.FromMilliseconds(200), "fresh"));
        Assert.Contains("The last value was: stale", error.Message);
    }

    [Fact]
    public void OutputBufferKeepsOnlyTheLastLines()
    {
        var buffer = new OutputBuffer(3);
        for (var i = 1; i <= 5; i++)
        {
            buffer.Add($"line {i}");
        }

        Assert.Equal(new[] { "line 3", "line 4", "line 5" }, buffer.Lines);
        Assert.Equal(5, buffer.TotalLines);
        Assert.False(buffer.Contains("line 1"));
        Assert.StartsWith("... (2 earlier lines not shown)", buffer.ToString());
    }

    [Fact]
    public void FreePortsAreNotHandedOutTwice()
    {
        var ports = Enumerable.Range(0, 50).Select(_ => FreePort.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 1, 65535));
    }
}

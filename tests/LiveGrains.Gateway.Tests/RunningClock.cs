using Microsoft.Extensions.Time.Testing;

namespace LiveGrains.Gateway.Tests;

/// <summary>
/// Lets a fake clock run at about real speed until disposed, for a test of something paced on LiveGrains' clock that is
/// not about the pace: the live event stream sends stats at most once a second of that clock, so on a clock held still
/// it sends none after the first (and holds back the status events queued behind them).
/// </summary>
public sealed class RunningClock : IAsyncDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public RunningClock(FakeTimeProvider time) => _running = RunAsync(time, _stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _stop.Dispose();
    }

    private static async Task RunAsync(FakeTimeProvider time, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Step);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                time.Advance(Step);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}

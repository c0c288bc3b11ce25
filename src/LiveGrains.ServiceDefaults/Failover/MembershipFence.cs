using LiveGrains.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.ServiceDefaults.Failover;

/// <summary>
/// Fences a silo that cannot confirm its own membership. Every <see cref="FailoverOptions.MembershipCheckInterval"/>
/// it reads its own row of the membership table; a read that does not say Dead confirms that the silo was alive when
/// the read started. Grain calls are refused (<see cref="MembershipFenceFilter"/>) once the last confirmation is older
/// than <see cref="FailoverOptions.MembershipFence"/>, and a row that says Dead stops the process.
/// <para>
/// Why this is enough for the short directory hold: a death is written to the table at some time T; every read that
/// starts after T sees it, so a silo serves nothing after T + fence. The directory starts its hold when it observes the
/// death (at or after T) and keeps it for <see cref="FailoverOptions.DirectoryHold"/>, longer than the fence, so
/// a grain of a falsely suspected silo (paused, cut off, starved) is never activated elsewhere while that silo can
/// still answer for it. Durations are measured on one monotonic clock each (paused time counts), never compared across
/// hosts: Orleans' membership clock (<see cref="TimeProviderNames.Membership"/>), which its failure detection and
/// directory run on, not LiveGrains' clock of rules (a test's frozen LiveGrainsClock must not fence a silo).
/// </para>
/// </summary>
public sealed partial class MembershipFence(
    IMembershipTable table,
    ILocalSiloDetails localSilo,
    IFatalErrorHandler fatalErrorHandler,
    IOptions<FailoverOptions> options,
    [FromKeyedServices(TimeProviderNames.Membership)] TimeProvider time,
    ILogger<MembershipFence> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly FailoverOptions _options = options.Value;
    private readonly CancellationTokenSource _stopping = new();
    private long _confirmedAt = time.GetTimestamp();
    private long _ownRowSeenFrom = long.MaxValue;
    private bool _readOnce;
    private Task _loop = Task.CompletedTask;

    /// <summary>
    /// True while the silo may serve: confirmed recently enough, stopping gracefully (it was not declared dead), or not
    /// yet able to read the table at all. The last is start-up only: the Redis and Azure providers throw until the
    /// membership service has initialized them, which happens before this silo writes its own row, so no grain can be placed here
    /// before a read has succeeded.
    /// </summary>
    public bool MayServe => _stopping.IsCancellationRequested
        || !Volatile.Read(ref _readOnce)
        || time.GetElapsedTime(Interlocked.Read(ref _confirmedAt)) < _options.MembershipFence;

    /// <summary>Completes once <see cref="MayServe"/> holds again, checked at the fence's own interval.</summary>
    public async Task WhenMayServeAsync()
    {
        while (!MayServe)
        {
            await Task.Delay(_options.MembershipCheckInterval, time);
        }
    }

    /// <summary>How long ago the silo last confirmed its membership.</summary>
    public TimeSpan SinceConfirmation => time.GetElapsedTime(Interlocked.Read(ref _confirmedAt));

    public void Participate(ISiloLifecycle lifecycle) =>
        // After the membership table is initialized (RuntimeInitialize) and before the silo joins; stopped before the
        // silo writes its own graceful Dead, which must not read as a death declaration.
        lifecycle.Subscribe(nameof(MembershipFence), ServiceLifecycleStage.RuntimeGrainServices, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _confirmedAt, time.GetTimestamp());
        _loop = Task.Run(LoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>
    /// A read starts every interval whether or not the previous one has answered. Awaited one after the other, a
    /// confirmation could age by the interval plus two reads' latency: under a load that slowed each read of the table to
    /// about half a second (the activity-batch bench, the process busy), that passed the fence of a silo that was
    /// reading its row fine, and it refused calls for a moment (docs/benchmarks.md, run U). Overlapped,
    /// the age stays under the interval plus one read's latency. A read is cut off at the fence, so at most
    /// fence / interval of them are in flight.
    /// </summary>
    private async Task LoopAsync()
    {
        var reads = new List<Task>();
        var maxInFlight = Math.Max(1, (int)Math.Ceiling(_options.MembershipFenceSeconds / _options.MembershipCheckIntervalSeconds));
        while (!_stopping.IsCancellationRequested)
        {
            reads.RemoveAll(read => read.IsCompleted);
            if (reads.Count < maxInFlight)
            {
                reads.Add(CheckOnceAsync());
            }

            try
            {
                await Task.Delay(_options.MembershipCheckInterval, time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(reads);
    }

    private async Task CheckOnceAsync()
    {
        var started = time.GetTimestamp();
        try
        {
            // The whole table (a few rows), not ReadRowAsync: the Redis provider throws on a row that does not exist yet
            // (the Azure one does not); one code path for both.
            var data = await table.ReadAllAsync(_stopping.Token).WaitAsync(_options.MembershipFence, time, _stopping.Token);
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            var row = data.TryGet(localSilo.SiloAddress)?.Item1;
            if (!_readOnce)
            {
                Confirm(started);
                Volatile.Write(ref _readOnce, true);
            }

            if (row is null && started < Interlocked.Read(ref _ownRowSeenFrom))
            {
                // Not in the table yet (still joining): nobody routes grains here, nothing to fence. Reads overlap, so a
                // read that started before the one that first saw the row may answer after it, and still finds none.
                Confirm(started);
                return;
            }

            if (row is null || row.Status == SiloStatus.Dead)
            {
                LogDeclaredDead(logger, localSilo.SiloAddress, row?.Status.ToString() ?? "missing");
                fatalErrorHandler.OnFatalException(this, $"MembershipFence: this silo's membership row is {row?.Status.ToString() ?? "missing"}; it was declared dead.");
                return;
            }

            SeenOwnRow(started);
            Confirm(started);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            if (!Volatile.Read(ref _readOnce))
            {
                // Start-up: the provider is not initialized yet (Redis and Azure throw NullReferenceException until then).
                return;
            }

            // Table unreachable (Redis or the storage account restarting) or slow: the confirmation ages, and past the fence calls are refused
            // until a read succeeds again. The process is not stopped: the whole cluster would stop with its store.
            LogCheckFailed(logger, ex, SinceConfirmation.TotalSeconds);
        }
    }

    /// <summary>Remembers the earliest start of a read that found this silo's row: from then on a missing row means removed.</summary>
    private void SeenOwnRow(long startedAt) => MoveIfBeyond(ref _ownRowSeenFrom, startedAt, -1);

    /// <summary>The silo was alive when a read that started at <paramref name="startedAt"/> began (reads answer out of order).</summary>
    private void Confirm(long startedAt) => MoveIfBeyond(ref _confirmedAt, startedAt, 1);

    /// <summary>Sets <paramref name="location"/> to <paramref name="value"/> if that is later (<paramref name="sign"/> 1) or earlier (-1) than it holds.</summary>
    private static void MoveIfBeyond(ref long location, long value, int sign)
    {
        long current;
        do
        {
            current = Interlocked.Read(ref location);
            if (value.CompareTo(current) != sign)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref location, value, current) != current);
    }

    /// <summary>The exception a fenced silo answers with.</summary>
    public SiloFencedException Refusal() =>
        new($"Silo {localSilo.SiloAddress} has not confirmed its membership for {SinceConfirmation.TotalSeconds:0.0} s (fence {_options.MembershipFenceSeconds:0.#} s); the call did not run.");

    [LoggerMessage(Level = LogLevel.Critical, Message = "Silo {Silo} reads its own membership row as {Status}: it was declared dead and stops now")]
    private static partial void LogDeclaredDead(ILogger logger, SiloAddress silo, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not confirm this silo's membership (last confirmed {Seconds:0.0} s ago)")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, double seconds);
}

/// <summary>
/// Refuses grain calls while the silo's <see cref="MembershipFence"/> is not confirmed; the call does not run. A grain
/// timer's tick is held until the fence lifts instead: Orleans never re-arms a grain timer whose tick a filter refused
/// (the code that re-arms it, and ends the "firing" state that defers every later Change, runs inside the refused
/// invocation), so one refused tick stopped that timer for the rest of the activation. A room's outbox relay ran on
/// such a timer: after one refusal, every later decision of the room waited the whole hand-off wait, and the 500-way
/// race on Azurite stopped draining (docs/chaos.md, "Session 10").
/// </summary>
public sealed partial class MembershipFenceFilter(MembershipFence fence, ILogger<MembershipFenceFilter> logger) : IIncomingGrainCallFilter
{
    /// <summary>The (internal) interface through which Orleans delivers a grain timer's tick to its activation.</summary>
    private const string TimerTickInterface = "Orleans.Runtime.IGrainTimerInvoker";

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (fence.MayServe)
        {
            return context.Invoke();
        }

        if (IsTimerTick(context.Request.GetInterfaceType()))
        {
            return InvokeOnceConfirmedAsync(context);
        }

        LogRefused(logger, context.InterfaceName, context.MethodName, fence.SinceConfirmation.TotalSeconds);
        throw fence.Refusal();
    }

    internal static bool IsTimerTick(Type? interfaceType) => interfaceType?.FullName == TimerTickInterface;

    private async Task InvokeOnceConfirmedAsync(IIncomingGrainCallContext context)
    {
        LogTickHeld(logger, context.TargetId, fence.SinceConfirmation.TotalSeconds);

        // Nothing runs for a grain of a fenced silo, ticks included; a silo read as dead stops, one stopping may serve.
        await fence.WhenMayServeAsync();
        await context.Invoke();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fenced: holding a timer tick of {Grain} until the membership is confirmed (last confirmed {Seconds:0.0} s ago)")]
    private static partial void LogTickHeld(ILogger logger, GrainId grain, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fenced: refused {Interface}.{Method}, membership last confirmed {Seconds:0.0} s ago")]
    private static partial void LogRefused(ILogger logger, string @interface, string method, double seconds);
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Events;

/// <summary>
/// Hands a grain's pending outbox events to the sink. The events are already durable in the grain's state (recorded
/// in the same write as their transition); the hand-off makes them durable in the resource's event log, whose
/// reminder then guarantees delivery after a crash.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="HandOffAsync"/> waits for the hand-off for at most <see cref="HandOffWait"/>. Normally it takes a few
/// milliseconds, and the caller answers only once the events are in the log, as before. When the sink is slow,
/// unreachable or failing (after a silo kill the tenant's registry grain can be unreachable for many seconds, and waiting made
/// every transition of the tenant stall a whole call timeout: docs/chaos.md), the caller goes on, and the grain
/// registers an outbox reminder first, so that a crash before the hand-off completes cannot strand the events in
/// the grain's state: the reminder reactivates the grain, whose activation hands them off. A busy grain does not wait
/// at all: once a wait has run out (until the outbox drains), or when it is asked within <see cref="HandOffWait"/> of
/// its last hand-off, it makes sure of the reminder and goes on, and its events follow in the running hand-off's next
/// batch. A room's decisions queue behind each wait: a stalled sink cost every queued decision the whole second, and
/// even a healthy one doubled the time a burst of go-lives on one room takes (docs/chaos.md, "Session 10"). A grain
/// called now and then still answers only once its events are in the log, and registers no reminder.
/// </para>
/// <para>
/// The hand-off is one Orleans <see cref="BatchWorker"/> per grain, running on the activation between its turns: one
/// hand-off at a time, looping until the outbox is empty, so events leave in sequence order. A failed hand-off ends
/// the callers' wait at once (waiting longer cannot help) and is retried every 2 s while the activation lives (each
/// retry keeps it from idle collection for a minute). Not a grain timer: a timer's tick is a message to the grain, which
/// an incoming call filter can refuse, and Orleans never re-arms a timer whose tick was refused (docs/chaos.md, "Session 10").
/// The sink tolerates an event twice.
/// </para>
/// </remarks>
public sealed class OutboxRelay(IGrainBase grain, Func<EventOutbox> outbox, IResourceEventSink sink, LiveGrainsClock clock, ILogger logger)
{
    /// <summary>The reminder a grain with a stalled hand-off registers; the grain forwards its ticks to <see cref="ReceiveReminderAsync"/>.</summary>
    public const string ReminderName = "outbox-relay";

    /// <summary>How long a caller waits for its events to reach the event log before it goes on without.</summary>
    public static readonly TimeSpan HandOffWait = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RetryKeepAlive = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private BatchWorkerFromDelegate? _worker;
    private bool _reminderRegistered;

    /// <summary>A caller's wait ran out and the outbox has not been empty since: the hand-off is stuck on the sink.</summary>
    private bool _stalled;

    /// <summary>When <see cref="HandOffAsync"/> was last called (a timestamp of the clock; null: never).</summary>
    private long? _lastHandOff;

    private BatchWorkerFromDelegate Worker => _worker ??= new BatchWorkerFromDelegate(RelayAsync);

    /// <summary>Starts handing off the pending events, if any, and returns at once.</summary>
    public void Kick()
    {
        if (outbox().Pending.Count > 0)
        {
            // A running hand-off picks up what was recorded meanwhile before it stops.
            Worker.Notify();
        }
    }

    /// <summary>
    /// Hands off the pending events, waiting up to <see cref="HandOffWait"/>; past that, or when the hand-off failed,
    /// makes sure a reminder will resume it after a crash, and returns with the hand-off still retried in the background.
    /// A grain that is busy (asked again within <see cref="HandOffWait"/> of its last hand-off, or stalled) makes sure of
    /// the reminder first and does not wait at all.
    /// </summary>
    public async Task HandOffAsync()
    {
        var previous = _lastHandOff;
        _lastHandOff = clock.Provider.GetTimestamp();
        if (outbox().Pending.Count == 0)
        {
            return;
        }

        // Every caller of a grain queues behind this wait: a room deciding back to back spent half of each decision on
        // it (500 go-lives on one room on Azurite: 14 ms write and 14-30 ms hand-off per decision, one decision at a
        // time). With the reminder registered a crash cannot strand the events, and a running hand-off takes everything
        // recorded meanwhile in its next batch.
        var busy = _stalled || (previous is { } last && clock.Provider.GetElapsedTime(last) < HandOffWait);
        if (busy && await EnsureReminderAsync())
        {
            Kick();
            return;
        }

        var waiting = outbox().Pending.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
        try
        {
            // WaitAsync drops its timer when the hand-off completes (a Task.Delay would stay armed for the whole second).
            // Real time, unlike the busy check: a bound on waiting for I/O, which a frozen test clock must not make endless.
            await Worker.NotifyAndWaitForWorkToBeServiced().WaitAsync(HandOffWait);
        }
        catch (TimeoutException)
        {
            // Slow or unreachable sink: make sure a crash cannot strand the events, then go on.
            _stalled = true;
        }

        // By event id: the state (and its outbox) may have been reloaded meanwhile, and later events may have been recorded.
        if (outbox().Pending.Exists(e => waiting.Contains(e.EventId)))
        {
            await EnsureReminderAsync();
        }
    }

    /// <summary>A tick of <see cref="ReminderName"/>: resumes the hand-off, and drops the reminder once nothing is pending.</summary>
    public async Task ReceiveReminderAsync()
    {
        _reminderRegistered = true;
        if (outbox().Pending.Count > 0)
        {
            Kick();
            return;
        }

        if (await grain.GetReminder(ReminderName) is { } reminder)
        {
            await grain.UnregisterReminder(reminder);
        }

        _reminderRegistered = false;
    }

    /// <summary>Registers the outbox reminder unless this activation did; false when that failed.</summary>
    private async Task<bool> EnsureReminderAsync()
    {
        if (_reminderRegistered)
        {
            return true;
        }

        try
        {
            await grain.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
            _reminderRegistered = true;
            return true;
        }
        catch (Exception ex)
        {
            // Still durable in the grain's state, and retried while this activation lives; only a crash before that
            // succeeds leaves the events waiting for the grain's next activation.
            logger.LogWarning(ex, "Could not register the outbox reminder of {GrainId}", grain.GrainContext.GrainId);
            return false;
        }
    }

    private async Task RelayAsync()
    {
        try
        {
            while (outbox().Pending is { Count: > 0 } pending)
            {
                var batch = pending.ToArray();
                await sink.PublishAsync(batch);

                // By event id: the state (and its outbox) may have been reloaded while the hand-off was awaited.
                var handed = batch.Select(e => e.EventId).ToHashSet(StringComparer.Ordinal);
                outbox().Pending.RemoveAll(e => handed.Contains(e.EventId));
            }

            _stalled = false;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not hand {Count} events of {GrainId} to the event sink; retrying", outbox().Pending.Count, grain.GrainContext.GrainId);
            grain.GrainContext.ActivationServices.GetRequiredService<IGrainRuntime>().DelayDeactivation(grain.GrainContext, RetryKeepAlive);
            // BatchWorker takes a DateTime and compares it with DateTime.UtcNow itself: a retry of a failed I/O, real time.
            Worker.Notify(DateTime.UtcNow + RetryDelay);
        }
    }
}

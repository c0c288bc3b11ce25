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
/// milliseconds, and the caller answers only once the events are in the log, as before. When the sink is slow or
/// unreachable (after a silo kill the tenant's registry grain can be unreachable for many seconds, and waiting made
/// every transition of the tenant stall a whole call timeout: docs/chaos.md), the caller goes on, and the grain
/// registers an outbox reminder first, so that a crash before the hand-off completes cannot strand the events in
/// the grain's state: the reminder reactivates the grain, whose activation hands them off.
/// </para>
/// <para>
/// One hand-off runs at a time, on an interleaving grain timer, and loops until the outbox is empty, so events leave
/// in sequence order; a failed hand-off is retried every 2 s while the activation lives (the timer keeps it alive).
/// The sink tolerates an event twice.
/// </para>
/// </remarks>
public sealed class OutboxRelay(IGrainBase grain, Func<EventOutbox> outbox, IResourceEventSink sink, ILogger logger)
{
    /// <summary>The reminder a grain with a stalled hand-off registers; the grain forwards its ticks to <see cref="ReceiveReminderAsync"/>.</summary>
    public const string ReminderName = "outbox-relay";

    /// <summary>How long a caller waits for its events to reach the event log before it goes on without.</summary>
    public static readonly TimeSpan HandOffWait = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private IGrainTimer? _timer;
    private TaskCompletionSource? _drained;
    private bool _running;
    private bool _reminderRegistered;

    /// <summary>Starts handing off the pending events, if any, and returns at once.</summary>
    public void Kick()
    {
        if (outbox().Pending.Count == 0 || _running)
        {
            // A running hand-off picks up what was recorded meanwhile before it stops.
            return;
        }

        if (_timer is null)
        {
            _timer = grain.RegisterGrainTimer(
                static (relay, _) => relay.RelayAsync(),
                this,
                new GrainTimerCreationOptions(TimeSpan.Zero, RetryDelay) { Interleave = true, KeepAlive = true });
        }
        else
        {
            _timer.Change(TimeSpan.Zero, RetryDelay);
        }
    }

    /// <summary>
    /// Hands off the pending events, waiting up to <see cref="HandOffWait"/>; past that, makes sure a reminder will
    /// resume the hand-off after a crash, and returns with the hand-off still running in the background.
    /// </summary>
    public async Task HandOffAsync()
    {
        Kick();
        if (outbox().Pending.Count == 0)
        {
            return;
        }

        try
        {
            // WaitAsync drops its timer when the hand-off completes (a Task.Delay would stay armed for the whole second).
            await (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(HandOffWait);
            return;
        }
        catch (TimeoutException)
        {
            // Slow or unreachable sink: make sure a crash cannot strand the events, then go on.
        }

        if (_reminderRegistered)
        {
            return;
        }

        try
        {
            await grain.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
            _reminderRegistered = true;
        }
        catch (Exception ex)
        {
            // Still durable in the grain's state, and retried while this activation lives; only a crash before that
            // succeeds leaves the events waiting for the grain's next activation.
            logger.LogWarning(ex, "Could not register the outbox reminder of {GrainId}", grain.GrainContext.GrainId);
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

    private async Task RelayAsync()
    {
        if (_running)
        {
            return;
        }

        _running = true;
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

            _timer?.Dispose();
            _timer = null;
            _drained?.TrySetResult();
            _drained = null;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not hand {Count} events of {GrainId} to the event sink; retrying", outbox().Pending.Count, grain.GrainContext.GrainId);
        }
        finally
        {
            _running = false;
        }
    }
}

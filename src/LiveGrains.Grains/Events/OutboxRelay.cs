using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Events;

/// <summary>
/// Hands a grain's pending outbox events to the sink, in the background: the events are already durable in the
/// grain's state (recorded in the same write as their transition), so the grain's callers never wait for the
/// hand-off. Waiting for it made every transition of a tenant depend on the tenant's webhook registry grain: after a
/// silo kill that grain can be unreachable for many seconds (the grain directory's lease on the dead silo's grains,
/// a Redis outage), and every live transition, live activation and room decision of the tenant then stalled for a
/// whole call timeout per attempt (docs/chaos.md, 2026-11-23 failover round).
/// </summary>
/// <remarks>
/// One hand-off runs at a time, on an interleaving grain timer, and loops until the outbox is empty, so events leave
/// in sequence order; a failed hand-off is retried every 2 s while the activation lives (the timer keeps it alive),
/// and a later activation starts over from the persisted outbox. The sink tolerates an event twice.
/// </remarks>
public sealed class OutboxRelay(IGrainBase grain, Func<EventOutbox> outbox, IResourceEventSink sink, ILogger logger)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private IGrainTimer? _timer;
    private bool _running;

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

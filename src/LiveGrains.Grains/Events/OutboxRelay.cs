using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Events;

/// <summary>
/// Hands a grain's pending outbox events to the sink. A failed hand-off is not the caller's failure: the
/// events are already durable in the grain's state, so the relay logs and retries on a grain timer.
/// </summary>
public sealed class OutboxRelay(IGrainBase grain, IResourceEventSink sink, ILogger logger)
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);
    private IGrainTimer? _retry;

    public async Task FlushAsync(EventOutbox outbox)
    {
        if (outbox.Pending.Count == 0)
        {
            return;
        }

        var batch = outbox.Pending.ToArray();
        try
        {
            await sink.PublishAsync(batch);
            outbox.Pending.RemoveRange(0, Math.Min(batch.Length, outbox.Pending.Count));
            _retry?.Dispose();
            _retry = null;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not hand {Count} events of {GrainId} to the event sink; retrying", batch.Length, grain.GrainContext.GrainId);
            _retry ??= grain.RegisterGrainTimer(
                static (state, _) => state.Relay.FlushAsync(state.Outbox),
                (Relay: this, Outbox: outbox),
                new GrainTimerCreationOptions(RetryDelay, RetryDelay) { KeepAlive = true });
        }
    }
}

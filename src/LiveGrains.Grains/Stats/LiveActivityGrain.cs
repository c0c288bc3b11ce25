using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// Pre-aggregates one live's activity on each silo (samples/GPSTracker): requests only append to the silo's
/// buffer, and the silo's flush pump (<see cref="LiveActivityBuffers"/>) ships it to the live's
/// <see cref="ILiveStatsGrain"/> every <see cref="StatsOptions.FlushIntervalMilliseconds"/>, so a live with all of
/// a node's traffic costs its stats grain a handful of calls a second.
/// </summary>
/// <remarks>
/// No timer of its own and no idle-worker removal: both tick for every live whether or not it has traffic (a grain
/// timer every 100 ms, Orleans' idle-worker inspection every 500 ms), which made 10,000 quiet lives cost a silo
/// more than their joins did (docs/profiling-joins.md). Idle workers go with the ordinary activation collection.
/// </remarks>
[StatelessWorker(-1, removeIdleWorkers: false)]
public sealed class LiveActivityGrain(
    LiveActivityBuffers buffers,
    ILogger<LiveActivityGrain> logger) : Grain, ILiveActivityGrain
{
    private const int AttachAttempts = 4;

    private LiveActivityBuffer _buffer = null!;

    private string LiveId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _buffer = buffers.Acquire(LiveId);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A graceful stop must not drop what was acknowledged: a flush that failed (the stats grain deactivating
        // on a stopping silo, a rejected message) put its batch back, so retry with backoff while we may.
        for (var attempt = 1; ; attempt++)
        {
            await buffers.FlushAsync(LiveId, _buffer, CancellationToken.None);
            if (!_buffer.HasBuffered || cancellationToken.IsCancellationRequested || attempt >= 20)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50 * attempt, 500)), CancellationToken.None);
        }

        if (_buffer.HasBuffered)
        {
            logger.LogError("Live {LiveId}: deactivating with activity still buffered; it stays in the silo's buffer for the next flush", LiveId);
        }

        buffers.Release(LiveId, _buffer);
    }

    public async Task<Result<ActivityReceipt>> RecordAsync(string tenant, ActivityRequest activity)
    {
        var gate = _buffer.Gate;
        if (gate is null || gate.Error is { Code: not DomainErrorCode.LiveEnded })
        {
            // Unknown, scheduled or missing lives ask every time: a scheduled live may be readied at any moment.
            gate = await AttachAsync(tenant);
            _buffer.SetGate(gate);
        }

        if (!string.Equals(gate.Tenant, tenant, StringComparison.Ordinal))
        {
            return DomainError.NotFound("Live");
        }

        if (gate.Error is { } error)
        {
            return error;
        }

        // Chat disabled: the messages are refused, the rest of the request stands (a batch reports them as rejected).
        var rejectedChat = 0;
        if (gate.ChatDisabled && activity.ChatMessages > 0)
        {
            rejectedChat = (int)Math.Min(int.MaxValue / 2, activity.ChatMessages);
            activity = activity with { ChatMessages = 0 };
        }

        if (gate.MaxJoinLimit is not null && (activity.Joins?.Length ?? 0) + (activity.Heartbeats?.Length ?? 0) + (activity.Leaves?.Length ?? 0) > 0)
        {
            return await AdmitAsync(tenant, activity, rejectedChat);
        }

        if (!buffers.TryAdd(LiveId, _buffer, ViewerOps.Encode(activity), activity.Likes, activity.ChatMessages))
        {
            return StatsErrors.Ended;
        }

        if (buffers.IsStopping)
        {
            // This silo is stopping and its shutdown flush has begun: activity accepted now would otherwise wait for
            // the worker's deactivation flush, which can reach the statistics after an end decided meanwhile, when a
            // frozen live takes it into its totals only, not its audience. Ship it before acknowledging; a failed
            // flush keeps it buffered with retries, as before.
            await buffers.FlushAsync(LiveId, _buffer);
        }

        return new ActivityReceipt(activity.Count, 0, rejectedChat);
    }

    /// <summary>
    /// Registers this silo with the live's statistics and reads the gate. Only that, so it is safe to send again: a call
    /// broken because the stats grain's silo went away while it ran (a rolling restart) is retried here, reaching the
    /// grain's next activation, instead of failing a request whose activity was not buffered yet (the gateway cannot
    /// retry a request broken in flight: it cannot know what ran).
    /// </summary>
    private async Task<LiveActivityGate> AttachAsync(string tenant)
    {
        var self = await buffers.SelfAsync();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await GrainFactory.Get<ILiveStatsGrain>(LiveId).AttachAsync(tenant, self);
            }
            catch (SiloUnavailableException ex) when (attempt < AttachAttempts)
            {
                logger.LogDebug(ex, "Live {LiveId}: attaching to the statistics broke with their silo; attempt {Attempt} again", LiveId, attempt + 1);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
        }
    }

    /// <summary>
    /// A live with a join limit: its viewer activity goes to the stats grain now, which admits joins one at a time
    /// against the audience, so the limit holds exactly under concurrent joins from every silo. This is the only path
    /// that costs a grain call per request, and only lives with a limit take it (the limit arrives with the gate).
    /// </summary>
    private async Task<Result<ActivityReceipt>> AdmitAsync(string tenant, ActivityRequest activity, int rejectedChat)
    {
        var batch = new ActivityBatch(ViewerOps.Encode(activity), activity.Likes, activity.ChatMessages);
        var admission = await GrainFactory.Get<ILiveStatsGrain>(LiveId).AdmitAsync(tenant, batch, await buffers.SelfAsync());
        _buffer.SetGate(admission.Gate);
        if (!string.Equals(admission.Gate.Tenant, tenant, StringComparison.Ordinal))
        {
            return DomainError.NotFound("Live");
        }

        if (admission.Gate.Error is { } error)
        {
            return error;
        }

        return new ActivityReceipt(activity.Count - admission.RejectedJoins, admission.RejectedJoins, rejectedChat);
    }
}

using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// Pre-aggregates one live's activity on each silo (samples/GPSTracker): requests only append to the silo's
/// buffer, and a timer ships it to the live's <see cref="ILiveStatsGrain"/> every few hundred milliseconds,
/// so a live with all of a node's traffic costs its stats grain a handful of calls a second.
/// </summary>
[StatelessWorker]
public sealed class LiveActivityGrain(
    LiveActivityBuffers buffers,
    IOptions<StatsOptions> options,
    ILogger<LiveActivityGrain> logger) : Grain, ILiveActivityGrain
{
    private LiveActivityBuffer _buffer = null!;
    private IGrainTimer? _timer;

    private string LiveId => this.GetPrimaryKeyString();

    private ILiveStatsGrain Stats => GrainFactory.GetGrain<ILiveStatsGrain>(LiveId);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _buffer = buffers.Acquire(LiveId);
        var interval = TimeSpan.FromMilliseconds(Math.Max(10, options.Value.FlushIntervalMilliseconds));
        _timer = this.RegisterGrainTimer(static (grain, _) => grain.FlushAsync(), this, new GrainTimerCreationOptions(interval, interval));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();

        // A graceful stop must not drop what was acknowledged: a flush that failed (the stats grain deactivating
        // on a stopping silo, a rejected message) put its batch back, so retry with backoff while we may.
        for (var attempt = 1; ; attempt++)
        {
            await FlushAsync();
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

    public async Task<Result<int>> RecordAsync(string tenant, ActivityRequest activity)
    {
        var gate = _buffer.Gate;
        if (gate is null || gate.Error is { Code: not DomainErrorCode.LiveEnded })
        {
            // Unknown, scheduled or missing lives ask every time: a scheduled live may be readied at any moment.
            gate = await Stats.AttachAsync(tenant, await buffers.SelfAsync());
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

        if (!_buffer.TryAdd(ViewerOps.Encode(activity), activity.Likes, activity.ChatMessages))
        {
            return StatsErrors.Ended;
        }

        return activity.Count;
    }

    private async Task FlushAsync()
    {
        if (_buffer.BeginFlush() is not { } batch)
        {
            return;
        }

        try
        {
            _buffer.SetGate(await Stats.ApplyAsync(batch, await buffers.SelfAsync()));
            _buffer.EndFlush(null);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Live {LiveId}: flushing {Ops} buffered ops failed; retrying on the next tick", LiveId, batch.Ops.Length);
            _buffer.EndFlush(batch);
        }
    }
}

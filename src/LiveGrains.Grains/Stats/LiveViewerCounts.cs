using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// The silo's pump of audiences to the tenants' lives indexes (the <c>viewer_count</c> order of <c>GET /v1/lives</c>):
/// each live's stats grain hands its latest viewer count here, and every <see cref="Interval"/> the pump sends each
/// index shard the counts handed to it since, in one call. Before, every stats grain called its shard itself on its
/// tick: with 10,000 lives watched that was 10,000 grain calls a second, about 9% of the gateway's CPU under a join
/// load (docs/benchmarks.md, run L).
/// </summary>
/// <remarks>
/// Soft state, as before: only the latest count of a live is kept; a count the shard does not know yet (the room's
/// push of the live has not landed) is sent again with the next rounds for <see cref="UnknownRounds"/> rounds, unless a
/// newer one replaced it, and a failed call is sent again whole. The stats grain hands the count over again every
/// 30 s while it is not zero, which repairs a shard that restarted.
/// </remarks>
public sealed class LiveViewerCounts(IGrainFactory grains, TimeProvider time, ILogger<LiveViewerCounts> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private const int UnknownRounds = 30;

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private Dictionary<string, Dictionary<string, Pending>> _pending = new(StringComparer.Ordinal);
    private Task? _pump;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LiveViewerCounts), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>The live's current audience, for its room's shard of the tenant's lives index (replaces any count not sent yet).</summary>
    public void Publish(string tenant, string roomId, string liveId, long viewerCount)
    {
        var shard = IndexShards.LiveShardKey(tenant, roomId);
        lock (_lock)
        {
            if (!_pending.TryGetValue(shard, out var lives))
            {
                _pending[shard] = lives = new Dictionary<string, Pending>(StringComparer.Ordinal);
            }

            lives[liveId] = new Pending(viewerCount, 0);
        }
    }

    /// <summary>One round: every shard with counts gets them in one call, all shards in parallel.</summary>
    internal async Task SendAsync()
    {
        Dictionary<string, Dictionary<string, Pending>> round;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            round = _pending;
            _pending = new Dictionary<string, Dictionary<string, Pending>>(StringComparer.Ordinal);
        }

        await Task.WhenAll(round.Select(shard => SendAsync(shard.Key, shard.Value)));
    }

    private async Task SendAsync(string shard, Dictionary<string, Pending> lives)
    {
        string[] unknown;
        try
        {
            unknown = await grains.Get<ILiveIndexShardGrain>(shard)
                .SetViewerCountsAsync([.. lives.Select(live => new LiveViewerCount(live.Key, live.Value.ViewerCount))]);
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "Sending {Count} audiences to {Shard} failed; sending them again with the next round", lives.Count, shard);
            unknown = [.. lives.Keys];
        }

        lock (_lock)
        {
            foreach (var liveId in unknown)
            {
                var again = lives[liveId] with { Rounds = lives[liveId].Rounds + 1 };
                if (again.Rounds >= UnknownRounds)
                {
                    continue;
                }

                if (!_pending.TryGetValue(shard, out var next))
                {
                    _pending[shard] = next = new Dictionary<string, Pending>(StringComparer.Ordinal);
                }

                next.TryAdd(liveId, again); // a newer count handed over meanwhile wins
            }
        }
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _pump ??= Task.Run(PumpAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await (_pump ?? Task.CompletedTask).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time with a round in flight: audiences are soft state, the next activations send them again.
        }
    }

    private async Task PumpAsync()
    {
        // The runtime's clock, like the activity flush (LiveActivityBuffers): a batching interval, not a rule.
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await SendAsync();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private sealed record Pending(long ViewerCount, int Rounds);
}

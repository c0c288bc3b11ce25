using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// The silo's budget for statistics written behind: at most <see cref="StatsOptions.WriteBehindBytesInFlight"/> of
/// them on their way to storage at once. A live whose periodic write does not fit keeps its changes in memory and
/// tries again on its next tick (a second later), so under more viewer-set bytes than the store takes, lives are
/// written less often instead of queueing without bound.
/// </summary>
/// <remarks>
/// Before, every live wrote its whole viewer sets every 2 s whatever the store could take: 10,000 lives with a few
/// thousand viewers each queued 65 MB of writes in the Redis client, writes timed out after 5 s, and the silo's own
/// membership reads (the same Redis) waited behind them until the fence refused every grain call, a 503 for each
/// request (docs/benchmarks.md, run U). One writer at a time waits, briefly, for the writes in flight to drain (the
/// first refused; nobody else starts meanwhile), so a large live is not starved by a stream of small ones; the rest are
/// refused at once and come back on their tick. While it waits, that live's tick holds its turn: a read of that one
/// live's stats may wait up to <see cref="MaxWait"/>. The writes that must not wait (the end's frozen stats, a
/// deactivation's, a conflict's retry) do not ask: they are rare.
/// </remarks>
public sealed class StatsWriteBudget(IOptions<StatsOptions> options, TimeProvider time)
{
    /// <summary>How long the first refused writer waits for the writes in flight (one tick).</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private long _inFlight;
    private Waiter? _waiter;

    /// <summary>Bytes reserved by writes in flight.</summary>
    public long InFlightBytes
    {
        get
        {
            lock (_lock)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>
    /// Reserves <paramref name="bytes"/> for a write; false when the write must wait for a later tick. A write larger
    /// than the whole budget goes alone. Every true must be followed by <see cref="Release"/> of the same bytes.
    /// </summary>
    public async Task<bool> ReserveAsync(long bytes, CancellationToken cancellationToken = default)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_waiter is null && Fits(bytes))
            {
                _inFlight += bytes;
                return true;
            }

            if (_waiter is not null)
            {
                return false;
            }

            _waiter = waiter = new Waiter(bytes);
        }

        try
        {
            return await waiter.Admitted.Task.WaitAsync(MaxWait, time, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_lock)
            {
                if (ReferenceEquals(_waiter, waiter))
                {
                    _waiter = null;
                    return false;
                }
            }

            // Admitted while the wait ended: the bytes are reserved for this writer.
            return true;
        }
    }

    /// <summary>A write that reserved <paramref name="bytes"/> has finished (stored or failed).</summary>
    public void Release(long bytes)
    {
        Waiter? admitted = null;
        lock (_lock)
        {
            _inFlight -= bytes;
            if (_waiter is { } waiter && Fits(waiter.Bytes))
            {
                _inFlight += waiter.Bytes;
                _waiter = null;
                admitted = waiter;
            }
        }

        admitted?.Admitted.TrySetResult(true);
    }

    private bool Fits(long bytes) => _inFlight == 0 || _inFlight + bytes <= options.Value.WriteBehindBytesInFlight;

    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;

        public TaskCompletionSource<bool> Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

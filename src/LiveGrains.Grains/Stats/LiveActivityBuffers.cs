using System.Collections.Concurrent;
using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// The silo's buffers of live activity, shared by the silo's <see cref="LiveActivityGrain"/> workers of each live,
/// the one flush pump that ships them to the lives' stats grains, and the silo's observer that a live's stats grain
/// calls at the end to close and drain them, so that no activity acknowledged with 202 misses the frozen stats and
/// none is acknowledged after the end.
/// </summary>
/// <remarks>
/// One pump for the silo, not a timer per worker: a grain timer ticks whether or not its buffer holds anything, so
/// 10,000 lives with a timer of 100 ms cost 100,000 timer turns a second on an idle silo (docs/profiling-joins.md).
/// The pump only visits the buffers that received something since their last flush.
/// </remarks>
public sealed class LiveActivityBuffers(IGrainFactory grains, IOptions<StatsOptions> options, TimeProvider time, ILogger<LiveActivityBuffers> logger)
    : ILiveActivityObserver
{
    private readonly ConcurrentDictionary<string, LiveActivityBuffer> _lives = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string LiveId, LiveActivityBuffer Buffer)> _pending = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task? _pump;
    private Task<ILiveActivityObserver>? _self;

    private TimeSpan FlushInterval => TimeSpan.FromMilliseconds(Math.Max(10, options.Value.FlushIntervalMilliseconds));

    /// <summary>
    /// This silo as a grain observer, created once (the singleton keeps it alive). Orleans refuses to create an
    /// object reference on a grain's scheduler, so it is made on the thread pool.
    /// </summary>
    public Task<ILiveActivityObserver> SelfAsync() =>
        _self ??= Task.Run(() => grains.CreateObjectReference<ILiveActivityObserver>(this));

    /// <summary>The silo is stopping: the pump has stopped and the shutdown flush has begun.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>Starts the flush pump (silo start, <see cref="LiveActivityShutdownFlush"/>).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _pump ??= Task.Run(PumpAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops the pump, then flushes every live's buffer once, in parallel; a failed batch goes back into its buffer.</summary>
    public async Task FlushAllAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await (_pump ?? Task.CompletedTask).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shutdown is out of time: still try each buffer once below.
        }

        await Task.WhenAll(_lives.Select(entry => FlushAsync(entry.Key, entry.Value, cancellationToken)));
    }

    /// <summary>Buffers the activity unless the live closed meanwhile, and queues the buffer for the next flush.</summary>
    public bool TryAdd(string liveId, LiveActivityBuffer buffer, ulong[] ops, long likes, long chatMessages)
    {
        if (!buffer.TryAdd(ops, likes, chatMessages, out var queue))
        {
            return false;
        }

        if (queue)
        {
            _pending.Enqueue((liveId, buffer));
        }

        return true;
    }

    /// <summary>
    /// Ships what the buffer holds to the live's stats grain; a failed batch goes back in front (and is queued again)
    /// so nothing acknowledged is dropped. Returns whether the flush succeeded or there was nothing to flush.
    /// </summary>
    public async Task<bool> FlushAsync(string liveId, LiveActivityBuffer buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.BeginFlush() is not { } batch)
        {
            return true;
        }

        try
        {
            var self = await SelfAsync();
            buffer.SetGate(await grains.Get<ILiveStatsGrain>(liveId).ApplyAsync(batch, self).WaitAsync(cancellationToken));
            buffer.EndFlush(null);
            return true;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Live {LiveId}: flushing {Ops} buffered ops failed; retrying on the next tick", liveId, batch.Ops.Length);
            if (buffer.EndFlush(batch))
            {
                _pending.Enqueue((liveId, buffer));
            }

            return false;
        }
    }

    private async Task PumpAsync()
    {
        // The runtime's clock (as grain timers), not LiveGrainsClock: the interval batches calls and decides no rule, and a
        // test's frozen clock would stop every flush.
        using var timer = new PeriodicTimer(FlushInterval, time);
        var flushes = new List<Task>();
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                // Only what was queued before this tick: a buffer that fails is queued again for the next one.
                for (var n = _pending.Count; n > 0 && _pending.TryDequeue(out var entry); n--)
                {
                    entry.Buffer.Dequeued();
                    flushes.Add(FlushAndForgetAsync(entry.LiveId, entry.Buffer));
                }

                // One flush of a live per silo at a time: the next tick waits for this one.
                await Task.WhenAll(flushes);
                flushes.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task FlushAndForgetAsync(string liveId, LiveActivityBuffer buffer)
    {
        await FlushAsync(liveId, buffer);
        Forget(liveId, buffer);
    }

    public LiveActivityBuffer Acquire(string liveId)
    {
        lock (_lock)
        {
            var buffer = _lives.GetOrAdd(liveId, static _ => new LiveActivityBuffer());
            buffer.Workers++;
            return buffer;
        }
    }

    public void Release(string liveId, LiveActivityBuffer buffer)
    {
        lock (_lock)
        {
            buffer.Workers--;
        }

        Forget(liveId, buffer);
    }

    /// <summary>Drops a buffer that no worker uses and that holds nothing; the pump flushes one that still does first.</summary>
    private void Forget(string liveId, LiveActivityBuffer buffer)
    {
        lock (_lock)
        {
            if (buffer.Workers <= 0 && buffer.IsIdle)
            {
                _lives.TryRemove(new KeyValuePair<string, LiveActivityBuffer>(liveId, buffer));
            }
        }
    }

    public Task GateChangedAsync(string liveId, LiveActivityGate gate)
    {
        if (_lives.TryGetValue(liveId, out var buffer))
        {
            buffer.SetGate(gate);
        }

        return Task.CompletedTask;
    }

    public async Task<ActivityBatch> CloseAsync(string liveId, LiveActivityGate gate)
    {
        if (!_lives.TryGetValue(liveId, out var buffer))
        {
            return ActivityBatch.Empty;
        }

        var drained = buffer.Close(gate);
        await buffer.WhenFlushedAsync();

        // A flush that failed meanwhile put its (earlier) batch back in front: hand it over too, first.
        var returned = buffer.Close(gate);
        if (returned.Ops.Length > 0 || returned.Likes != 0 || returned.ChatMessages != 0)
        {
            drained = new ActivityBatch([.. returned.Ops, .. drained.Ops], returned.Likes + drained.Likes, returned.ChatMessages + drained.ChatMessages);
        }

        logger.LogDebug("Live {LiveId}: closed this silo's activity buffer ({Ops} ops handed over)", liveId, drained.Ops.Length);
        return drained;
    }
}

/// <summary>One live's buffered activity on one silo.</summary>
public sealed class LiveActivityBuffer
{
    private readonly Lock _lock = new();
    private List<ulong> _ops = [];
    private long _likes;
    private long _chatMessages;
    private int _inFlight;
    private bool _queued;
    private TaskCompletionSource? _flushed;

    internal int Workers { get; set; }

    /// <summary>The last answer of the stats grain; null until asked. An end gate is final.</summary>
    public LiveActivityGate? Gate { get; private set; }

    public bool IsClosed => Gate?.Error?.Code == DomainErrorCode.LiveEnded;

    internal bool HasBuffered
    {
        get
        {
            lock (_lock)
            {
                return _ops.Count > 0 || _likes != 0 || _chatMessages != 0;
            }
        }
    }

    internal bool IsIdle
    {
        get
        {
            lock (_lock)
            {
                return _ops.Count == 0 && _likes == 0 && _chatMessages == 0 && _inFlight == 0;
            }
        }
    }

    public void SetGate(LiveActivityGate gate)
    {
        lock (_lock)
        {
            if (!IsClosed)
            {
                Gate = gate;
            }
        }
    }

    /// <summary>Buffers the activity unless the live closed meanwhile; <paramref name="queue"/>: the pump must be told.</summary>
    public bool TryAdd(ulong[] ops, long likes, long chatMessages, out bool queue)
    {
        lock (_lock)
        {
            queue = false;
            if (IsClosed)
            {
                return false;
            }

            _ops.AddRange(ops);
            _likes += likes;
            _chatMessages += chatMessages;
            queue = !_queued;
            _queued = true;
            return true;
        }
    }

    /// <summary>The pump took this buffer from its queue; the next activity queues it again.</summary>
    internal void Dequeued()
    {
        lock (_lock)
        {
            _queued = false;
        }
    }

    /// <summary>Takes the buffered activity for a flush; null when there is none.</summary>
    public ActivityBatch? BeginFlush()
    {
        lock (_lock)
        {
            if (_ops.Count == 0 && _likes == 0 && _chatMessages == 0)
            {
                return null;
            }

            _inFlight++;
            return Take();
        }
    }

    /// <summary>
    /// Ends a flush; a failed batch goes back in front so nothing acknowledged is dropped. Returns whether the
    /// buffer must be queued for the pump again (it was not queued already).
    /// </summary>
    public bool EndFlush(ActivityBatch? failed)
    {
        TaskCompletionSource? flushed = null;
        var queue = false;
        lock (_lock)
        {
            if (failed is not null)
            {
                _ops.InsertRange(0, failed.Ops);
                _likes += failed.Likes;
                _chatMessages += failed.ChatMessages;
                queue = !_queued && !IsClosed;
                _queued |= queue;
            }

            if (--_inFlight == 0)
            {
                flushed = _flushed;
                _flushed = null;
            }
        }

        flushed?.TrySetResult();
        return queue;
    }

    internal ActivityBatch Close(LiveActivityGate gate)
    {
        lock (_lock)
        {
            Gate = gate.Error?.Code == DomainErrorCode.LiveEnded ? gate : new LiveActivityGate(gate.Tenant, StatsErrors.Ended);
            return Take();
        }
    }

    internal Task WhenFlushedAsync()
    {
        lock (_lock)
        {
            if (_inFlight == 0)
            {
                return Task.CompletedTask;
            }

            _flushed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _flushed.Task;
        }
    }

    private ActivityBatch Take()
    {
        var batch = new ActivityBatch([.. _ops], _likes, _chatMessages);
        _ops = [];
        _likes = 0;
        _chatMessages = 0;
        return batch;
    }
}

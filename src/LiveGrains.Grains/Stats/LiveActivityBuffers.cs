using System.Collections.Concurrent;
using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// The silo's buffers of live activity, shared by the silo's <see cref="LiveActivityGrain"/> workers of each live,
/// and the silo's observer that a live's stats grain calls at the end to close and drain them, so that no
/// activity acknowledged with 202 misses the frozen stats and none is acknowledged after the end.
/// </summary>
public sealed class LiveActivityBuffers(IGrainFactory grains, ILogger<LiveActivityBuffers> logger) : ILiveActivityObserver
{
    private readonly ConcurrentDictionary<string, LiveActivityBuffer> _lives = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private Task<ILiveActivityObserver>? _self;

    /// <summary>
    /// This silo as a grain observer, created once (the singleton keeps it alive). Orleans refuses to create an
    /// object reference on a grain's scheduler, so it is made on the thread pool.
    /// </summary>
    public Task<ILiveActivityObserver> SelfAsync() =>
        _self ??= Task.Run(() => grains.CreateObjectReference<ILiveActivityObserver>(this));

    /// <summary>Flushes every live's buffer once, in parallel; a failed batch goes back into its buffer.</summary>
    public async Task FlushAllAsync(CancellationToken cancellationToken)
    {
        var self = await SelfAsync();
        await Task.WhenAll(_lives.Select(async entry =>
        {
            if (entry.Value.BeginFlush() is not { } batch)
            {
                return;
            }

            try
            {
                entry.Value.SetGate(await grains.GetGrain<ILiveStatsGrain>(entry.Key).ApplyAsync(batch, self).WaitAsync(cancellationToken));
                entry.Value.EndFlush(null);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Live {LiveId}: flushing activity at shutdown failed; the worker's own flush retries it", entry.Key);
                entry.Value.EndFlush(batch);
            }
        }));
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
            if (--buffer.Workers <= 0 && buffer.IsIdle)
            {
                _lives.TryRemove(new KeyValuePair<string, LiveActivityBuffer>(liveId, buffer));
            }
        }
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

    /// <summary>Buffers the activity unless the live closed meanwhile.</summary>
    public bool TryAdd(ulong[] ops, long likes, long chatMessages)
    {
        lock (_lock)
        {
            if (IsClosed)
            {
                return false;
            }

            _ops.AddRange(ops);
            _likes += likes;
            _chatMessages += chatMessages;
            return true;
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

    /// <summary>Ends a flush; a failed batch goes back in front so nothing acknowledged is dropped.</summary>
    public void EndFlush(ActivityBatch? failed)
    {
        TaskCompletionSource? flushed = null;
        lock (_lock)
        {
            if (failed is not null)
            {
                _ops.InsertRange(0, failed.Ops);
                _likes += failed.Likes;
                _chatMessages += failed.ChatMessages;
            }

            if (--_inFlight == 0)
            {
                flushed = _flushed;
                _flushed = null;
            }
        }

        flushed?.TrySetResult();
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

namespace LiveGrains.Grains;

/// <summary>
/// A silo's calls to shared grains (a tenant's lives index shards, its event feed shards, its webhook registry),
/// batched per target: at most one call per target is in flight, and whatever callers hand over while it runs goes out
/// together in the next one. A lone caller's call leaves at once (no gather delay); under load N callers share one
/// grain call instead of making N. Every caller's items are in a call that started after it asked, and its task ends
/// with that call (its result, or its failure: the caller retries as it would have after a call of its own).
/// </summary>
/// <remarks>
/// Before (session 10), each room's decision made its own index push and each relay its own feed append and registry
/// read: at 3,000 go-lives a second over 10,000 rooms that was ~9,000 grain calls a second to 16 + 8 + 1 grains, with
/// their messages, turns and coalesced writes (docs/benchmarks.md, run S). The calls run on the thread pool, never on
/// the caller's activation: a room that is busy must not hold other rooms' batches.
/// </remarks>
/// <typeparam name="TItem">What callers hand over.</typeparam>
/// <typeparam name="TResult">What a call answers; every caller of that call gets it.</typeparam>
public sealed class BatchedCalls<TItem, TResult>(Func<string, IReadOnlyList<TItem>, Task<TResult>> call)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Target> _targets = new(StringComparer.Ordinal);

    /// <summary>Targets with a call in flight or queued (for tests).</summary>
    internal int Targets
    {
        get
        {
            lock (_lock)
            {
                return _targets.Count;
            }
        }
    }

    /// <summary>Hands <paramref name="items"/> to the next call to <paramref name="target"/> and waits for that call.</summary>
    public Task<TResult> CallAsync(string target, IReadOnlyList<TItem> items)
    {
        TaskCompletionSource<TResult> next;
        var start = false;
        lock (_lock)
        {
            if (!_targets.TryGetValue(target, out var queued))
            {
                _targets[target] = queued = new Target();
                start = true;
            }

            queued.Items.AddRange(items);
            next = queued.Next ??= new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (start)
        {
            // Off the caller's activation (a grain's turn would otherwise run every later batch to this target), and
            // without the first caller's execution context (its trace and request context are not the batch's).
            using (ExecutionContext.SuppressFlow())
            {
                _ = Task.Run(() => SendAsync(target));
            }
        }

        return next.Task;
    }

    private async Task SendAsync(string target)
    {
        while (true)
        {
            List<TItem> items;
            TaskCompletionSource<TResult> waiting;
            lock (_lock)
            {
                var queued = _targets[target];
                if (queued.Next is null)
                {
                    _targets.Remove(target);
                    return;
                }

                items = queued.Items;
                waiting = queued.Next;
                queued.Items = [];
                queued.Next = null;
            }

            try
            {
                waiting.SetResult(await call(target, items));
            }
            catch (Exception ex)
            {
                waiting.SetException(ex);
            }
        }
    }

    private sealed class Target
    {
        public List<TItem> Items { get; set; } = [];

        /// <summary>The callers of the next call; null while nobody waits for one.</summary>
        public TaskCompletionSource<TResult>? Next { get; set; }
    }
}

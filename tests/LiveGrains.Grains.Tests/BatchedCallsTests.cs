using System.Collections.Concurrent;

namespace LiveGrains.Grains.Tests;

/// <summary>The silo's batched calls to shared grains (index pushes, feed appends, registry reads).</summary>
public sealed class BatchedCallsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A call target that holds each call until the test releases it, and records what each call carried.</summary>
    private sealed class HeldCalls
    {
        private readonly ConcurrentQueue<TaskCompletionSource> _held = new();

        public ConcurrentQueue<(string Target, int[] Items)> Calls { get; } = new();

        public SemaphoreSlim Started { get; } = new(0);

        public Exception? FailNext { get; set; }

        public async Task<int> CallAsync(string target, IReadOnlyList<int> items)
        {
            Calls.Enqueue((target, [.. items]));
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _held.Enqueue(release);
            Started.Release();
            await release.Task;
            if (FailNext is { } failure)
            {
                FailNext = null;
                throw failure;
            }

            return items.Sum();
        }

        public void ReleaseOne()
        {
            Assert.True(_held.TryDequeue(out var release), "no call is held");
            release.SetResult();
        }
    }

    [Fact]
    public async Task ALoneCallLeavesAtOnceAndAnswersItsCaller()
    {
        var held = new HeldCalls();
        var calls = new BatchedCalls<int, int>(held.CallAsync);

        var answer = calls.CallAsync("a", [1, 2]);
        Assert.True(await held.Started.WaitAsync(Wait));
        held.ReleaseOne();

        Assert.Equal(3, await answer.WaitAsync(Wait));
        var call = Assert.Single(held.Calls);
        Assert.Equal("a", call.Target);
        Assert.Equal([1, 2], call.Items);
        await Eventually(() => calls.Targets == 0);
    }

    [Fact]
    public async Task CallersWhileACallIsInFlightShareTheNextCall()
    {
        var held = new HeldCalls();
        var calls = new BatchedCalls<int, int>(held.CallAsync);

        var first = calls.CallAsync("a", [1]);
        Assert.True(await held.Started.WaitAsync(Wait));

        // Asked while the first call runs: none of them may be answered by it (their items are not in it).
        var later = Enumerable.Range(2, 5).Select(i => calls.CallAsync("a", [i])).ToArray();
        held.ReleaseOne();
        Assert.Equal(1, await first.WaitAsync(Wait));
        Assert.All(later, task => Assert.False(task.IsCompleted));

        Assert.True(await held.Started.WaitAsync(Wait));
        held.ReleaseOne();
        var answers = await Task.WhenAll(later).WaitAsync(Wait);

        Assert.All(answers, answer => Assert.Equal(2 + 3 + 4 + 5 + 6, answer));
        Assert.Equal([[1], [2, 3, 4, 5, 6]], held.Calls.Select(c => c.Items).ToArray());
    }

    [Fact]
    public async Task TargetsAreCalledIndependently()
    {
        var held = new HeldCalls();
        var calls = new BatchedCalls<int, int>(held.CallAsync);

        var a = calls.CallAsync("a", [1]);
        var b = calls.CallAsync("b", [2]);
        Assert.True(await held.Started.WaitAsync(Wait));
        Assert.True(await held.Started.WaitAsync(Wait)); // b's call did not wait for a's
        held.ReleaseOne();
        held.ReleaseOne();

        Assert.Equal(1, await a.WaitAsync(Wait));
        Assert.Equal(2, await b.WaitAsync(Wait));
        Assert.Equal(["a", "b"], held.Calls.Select(c => c.Target).Order().ToArray());
    }

    [Fact]
    public async Task AFailedCallFailsItsCallersOnlyAndTheNextCallStillLeaves()
    {
        var held = new HeldCalls { FailNext = new InvalidOperationException("storage said no") };
        var calls = new BatchedCalls<int, int>(held.CallAsync);

        var failed = calls.CallAsync("a", [1]);
        Assert.True(await held.Started.WaitAsync(Wait));
        var next = calls.CallAsync("a", [7]);
        held.ReleaseOne();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failed.WaitAsync(Wait));
        Assert.Equal("storage said no", error.Message);
        Assert.True(await held.Started.WaitAsync(Wait));
        held.ReleaseOne();
        Assert.Equal(7, await next.WaitAsync(Wait));
    }

    [Fact]
    public async Task AThrowingCallFailsItsCallersInsteadOfLosingThem()
    {
        var calls = new BatchedCalls<int, int>((_, _) => throw new InvalidOperationException("no grain"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => calls.CallAsync("a", [1]).WaitAsync(Wait));
        await Eventually(() => calls.Targets == 0);
    }

    [Fact]
    public async Task ManyConcurrentCallersAreAllAnsweredWithFewerCallsThanCallers()
    {
        var calls = 0;
        var seen = new ConcurrentBag<int>();
        var batched = new BatchedCalls<int, int>(async (_, items) =>
        {
            // Long enough that callers queue behind each call even on a loaded host (2,000 calls of 20 ms would also
            // run past the test's wait).
            Interlocked.Increment(ref calls);
            await Task.Delay(20);
            foreach (var item in items)
            {
                seen.Add(item);
            }

            return items.Count;
        });

        await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => Task.Run(() => batched.CallAsync("shard", [i])))).WaitAsync(Wait);

        Assert.Equal(Enumerable.Range(0, 2_000), seen.Order());
        Assert.True(calls < 2_000 / 4, $"{calls} calls for 2,000 callers");
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not reached");
            await Task.Delay(10);
        }
    }
}

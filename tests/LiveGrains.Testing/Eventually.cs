using System.Diagnostics;

namespace LiveGrains.Testing;

/// <summary>Polls a condition until it holds or a deadline passes. Tests wait with this, never with fixed sleeps.</summary>
public static class Eventually
{
    /// <summary>The pause between two polls when none is given.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Completes once <paramref name="condition"/> returns true; throws a <see cref="TimeoutException"/> naming
    /// <paramref name="because"/> once <paramref name="timeout"/> has passed. An exception thrown by the condition
    /// counts as "not yet" and is reported if the deadline passes.
    /// </summary>
    public static async Task TrueAsync(
        Func<Task<bool>> condition,
        TimeSpan timeout,
        string because,
        TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        await ValueAsync(async () => await condition(), static ok => ok, timeout, because, pollInterval, cancellationToken);
    }

    /// <inheritdoc cref="TrueAsync(Func{Task{bool}}, TimeSpan, string, TimeSpan?, CancellationToken)"/>
    public static Task TrueAsync(
        Func<bool> condition,
        TimeSpan timeout,
        string because,
        TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return TrueAsync(() => Task.FromResult(condition()), timeout, because, pollInterval, cancellationToken);
    }

    /// <summary>
    /// Polls <paramref name="probe"/> until <paramref name="accept"/> holds for its value and returns that value;
    /// on timeout the exception message shows the last value seen.
    /// </summary>
    public static async Task<T> ValueAsync<T>(
        Func<Task<T>> probe,
        Func<T, bool> accept,
        TimeSpan timeout,
        string because,
        TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(accept);
        var interval = pollInterval ?? DefaultPollInterval;
        var clock = Stopwatch.StartNew();
        var attempts = 0;
        var hasValue = false;
        T last = default!;
        Exception? lastError = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            attempts++;
            try
            {
                last = await probe();
                hasValue = true;
                lastError = null;
                if (accept(last))
                {
                    return last;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lastError = ex;
            }

            if (clock.Elapsed >= timeout)
            {
                var detail = lastError is not null
                    ? $" The last attempt threw {lastError.GetType().Name}: {lastError.Message}"
                    : hasValue ? $" The last value was: {Describe(last)}." : string.Empty;
                throw new TimeoutException(
                    $"Timed out after {timeout.TotalSeconds:0.###} s ({attempts} attempts) waiting until {because}.{detail}",
                    lastError);
            }

            var remaining = timeout - clock.Elapsed;
            var pause = remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining < interval ? remaining : interval;
            await Task.Delay(pause, cancellationToken);
        }
    }

    private static string Describe<T>(T value) => value is null ? "null" : value.ToString() ?? "null";
}

namespace LiveGrains.Grains.Listing;

/// <summary>
/// Coalesces the writes of a reentrant grain (samples/Chirper <c>ChirperAccount.WriteStateAsync</c>): a caller that
/// changed the state awaits a write that started after its change, so N concurrent changes cost one or two writes,
/// never N, and only one write is ever in flight (no ETag race with ourselves). With a <paramref name="gather"/> delay a
/// write first waits that long, so changes arriving meanwhile share it even when writes are faster than changes arrive.
/// </summary>
public sealed class CoalescedWriter(Func<Task> write, TimeSpan gather = default)
{
    private long _changed;
    private long _saved;
    private Task? _inFlight;

    /// <summary>Marks the state changed and returns once a write that includes the change succeeded.</summary>
    public async Task SaveAsync()
    {
        var mine = ++_changed;
        while (_saved < mine)
        {
            if (_inFlight is { } running)
            {
                try
                {
                    await running;
                }
                catch
                {
                    // Another caller's write failed: try ours (a lasting failure reaches every caller that way).
                }
                finally
                {
                    if (ReferenceEquals(_inFlight, running))
                    {
                        _inFlight = null;
                    }
                }

                continue;
            }

            var attempt = WriteAsync();
            _inFlight = attempt;
            try
            {
                await attempt;
            }
            finally
            {
                if (ReferenceEquals(_inFlight, attempt))
                {
                    _inFlight = null;
                }
            }
        }
    }

    /// <summary>One write of everything changed when it starts; records that before anyone resumes.</summary>
    private async Task WriteAsync()
    {
        if (gather > TimeSpan.Zero)
        {
            await Task.Delay(gather);
        }

        var version = _changed;
        await write();
        _saved = Math.Max(_saved, version);
    }
}

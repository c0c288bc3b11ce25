using System.Threading.Channels;
using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Audit;

/// <summary>
/// The gateway's queue of audit entries: requests hand their entry over and go on, and one pump sends each tenant's
/// entries to its <see cref="IAuditLogGrain"/> in batches, one storage write per batch. One grain call and one write
/// per control action made the tenant's log the bottleneck of go-live (run H, docs/benchmarks.md); a batch every
/// <see cref="FlushInterval"/> costs a few writes a second whatever the load.
/// <para>
/// Order per gateway is kept (one pump, batches in queue order). Delivery is at least once: a failed batch is retried
/// with backoff, and a gateway that stops drains its queue first. What a killed gateway had queued (at most one
/// interval's worth) is lost; a full queue makes requests wait rather than drop entries.
/// </para>
/// <para>
/// Its waits (the gathering interval, the retry backoff, the drain bound) are on the runtime's <see cref="TimeProvider"/>,
/// not <see cref="LiveGrains.Grains.LiveGrainsClock"/>: they batch and retry calls and decide no rule an entry shows (its time is
/// the request's, on LiveGrainsClock), and a test's frozen clock would hold every entry back.
/// </para>
/// </summary>
public sealed partial class AuditBuffer(IGrainFactory grains, TimeProvider time, ILogger<AuditBuffer> logger) : BackgroundService
{
    internal static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Entries per grain call; larger batches are split.</summary>
    private const int MaxBatch = 500;

    /// <summary>Queued entries before requests wait for room (about 10 MB).</summary>
    private const int Capacity = 50_000;

    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    /// <summary>How long a stopping gateway keeps trying to hand over what it queued.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly Channel<(string Tenant, AuditRecord Record)> _queue = Channel.CreateBounded<(string, AuditRecord)>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Queues an entry; waits only while the queue is full.</summary>
    public ValueTask EnqueueAsync(string tenant, AuditRecord record, CancellationToken cancellationToken) =>
        _queue.Writer.WriteAsync((tenant, record), cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                // Let entries gather: one batch per tenant and interval, not one per request. A send under way is not
                // cancelled by a stop: its entries have left the queue, so cancelling it would lose them.
                await Task.Delay(FlushInterval, time, stoppingToken);
                await SendQueuedAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: hand over what is queued, below.
        }

        using var drain = new CancellationTokenSource(DrainTimeout, time);
        try
        {
            await SendQueuedAsync(drain.Token);
        }
        catch (OperationCanceledException)
        {
            Log.NotDrained(logger, _queue.Reader.Count);
        }
    }

    private async Task SendQueuedAsync(CancellationToken cancellationToken)
    {
        var batches = new Dictionary<string, List<AuditRecord>>(StringComparer.Ordinal);
        while (_queue.Reader.TryRead(out var item))
        {
            if (!batches.TryGetValue(item.Tenant, out var batch))
            {
                batches[item.Tenant] = batch = [];
            }

            batch.Add(item.Record);
        }

        foreach (var (tenant, records) in batches)
        {
            foreach (var chunk in records.Chunk(MaxBatch))
            {
                await SendAsync(tenant, chunk, cancellationToken);
            }
        }
    }

    private async Task SendAsync(string tenant, AuditRecord[] records, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await grains.Get<IAuditLogGrain>(tenant).AppendAsync(records).WaitAsync(cancellationToken);
                return;
            }
            // Only our own token stops the retries: an OperationCanceledException from the grain call (a call cancelled
            // inside the cluster while a silo or the membership store is down) is a failed append like any other, and
            // escaping from here would stop the gateway (a BackgroundService's exception stops the host).
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && attempt < Backoff.Length)
            {
                Log.Retrying(logger, e, records.Length, tenant);
                await Task.Delay(Backoff[attempt], time, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                Log.Lost(logger, e, records.Length, tenant);
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not append {Count} audit entries of tenant {Tenant}; retrying")]
        public static partial void Retrying(ILogger logger, Exception exception, int count, string tenant);

        [LoggerMessage(Level = LogLevel.Error, Message = "Gave up appending {Count} audit entries of tenant {Tenant}")]
        public static partial void Lost(ILogger logger, Exception exception, int count, string tenant);

        [LoggerMessage(Level = LogLevel.Error, Message = "Stopped with {Count} audit entries not handed over")]
        public static partial void NotDrained(ILogger logger, int count);
    }
}

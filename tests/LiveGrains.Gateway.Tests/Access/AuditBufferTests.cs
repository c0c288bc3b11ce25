using System.Reflection;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Audit;
using LiveGrains.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace LiveGrains.Gateway.Tests.Access;

/// <summary>
/// The gateway's audit buffer is a BackgroundService: an exception escaping it stops the whole gateway. A grain call
/// cancelled inside the cluster (a silo or the membership store down) reaches it as an OperationCanceledException that
/// is not its own stop, and must be retried like any failed append (chaos: a kill run stopped a co-hosted gateway so).
/// </summary>
public sealed class AuditBufferTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task AnAppendCancelledInsideTheClusterIsRetriedAndTheBufferKeepsRunning()
    {
        var log = new FlakyAuditLog(failures: 2);
        using var buffer = new AuditBuffer(GrainFactoryProxy.Serving(log), TimeProvider.System, NullLogger<AuditBuffer>.Instance);
        await buffer.StartAsync(CancellationToken.None);

        await buffer.EnqueueAsync("acme", Record("first"), CancellationToken.None);
        await Eventually.TrueAsync(() => Task.FromResult(log.Appended.Count == 1), Timeout, "the first entry to be appended after two cancelled calls");
        await buffer.EnqueueAsync("acme", Record("second"), CancellationToken.None);
        await Eventually.TrueAsync(() => Task.FromResult(log.Appended.Count == 2), Timeout, "the buffer to keep running");

        Assert.Equal(["first", "second"], log.Appended.Select(r => r.Action));
        Assert.Equal(4, log.Calls);
        Assert.False(buffer.ExecuteTask!.IsCompleted);
        await buffer.StopAsync(CancellationToken.None);
    }

    private static AuditRecord Record(string action) =>
        new(DateTimeOffset.UnixEpoch, new AuditActor("key", "k1"), action, "room-1", "room", "success", 200);

    private sealed class FlakyAuditLog(int failures) : IAuditLogGrain
    {
        private int _failures = failures;

        public List<AuditRecord> Appended { get; } = [];

        public int Calls { get; private set; }

        public Task AppendAsync(IReadOnlyList<AuditRecord> records)
        {
            Calls++;
            if (_failures-- > 0)
            {
                // What a call cancelled inside the cluster looks like to the caller.
                throw new OperationCanceledException("The operation was canceled.");
            }

            Appended.AddRange(records);
            return Task.CompletedTask;
        }

        public Task<AuditPage> QueryAsync(AuditQuery query) => throw new NotSupportedException();
    }

    /// <summary>An <see cref="IGrainFactory"/> whose only grain is the given audit log.</summary>
    public class GrainFactoryProxy : DispatchProxy
    {
        private IAuditLogGrain _log = null!;

        public static IGrainFactory Serving(IAuditLogGrain log)
        {
            var factory = Create<IGrainFactory, GrainFactoryProxy>();
            ((GrainFactoryProxy)(object)factory)._log = log;
            return factory;
        }

        // GetGrain<IAuditLogGrain>(key), and GetGrain(grainId, interfaceType), which grains.Get<T> uses once the process
        // knows the audit log's grain type (from a real cluster of another test).
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod is { Name: nameof(IGrainFactory.GetGrain) } method
            && ((method.IsGenericMethod && method.GetGenericArguments()[0] == typeof(IAuditLogGrain)) || args is [GrainId, GrainInterfaceType])
                ? _log
                : throw new NotSupportedException(targetMethod?.Name);
    }
}

using System.Net;
using LiveGrains.ServiceDefaults.Failover;
using LiveGrains.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LiveGrains.Grains.Tests;

/// <summary>
/// The membership fence measures on the clock Orleans' membership runs on, injected (issue 10): a fake one drives its
/// checks, the timeout of a read and the age of the last confirmation. The fence and the check interval are long here
/// (a minute, 20 s), so a test that passes in seconds can only have been driven by the fake clock.
/// </summary>
public sealed class MembershipFenceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly SiloAddress Self = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ScriptedMembershipTable _table = new();
    private readonly FailoverOptions _options = new() { MembershipFenceSeconds = 60, MembershipCheckIntervalSeconds = 20, DirectoryHoldSeconds = 90 };

    [Fact]
    public async Task ASiloIsFencedOnceItsMembershipIsUnconfirmedForTheFenceOfTheClockAndServesAgainAfterTheNextGoodRead()
    {
        var fence = new MembershipFence(
            _table, new LocalSilo(), new NoFatalErrors(), Options.Create(_options), _time, NullLogger<MembershipFence>.Instance);
        var lifecycle = new SiloLifecycleSubject(NullLogger<SiloLifecycleSubject>.Instance);
        fence.Participate(lifecycle);
        await lifecycle.OnStart(CancellationToken.None);
        try
        {
            // A check every interval of the clock: the second read starts once the first has confirmed the silo.
            await Eventually.TrueAsync(() => AdvanceThen(_options.MembershipCheckInterval, () => _table.Reads >= 2), Timeout, "two reads of the table");
            Assert.True(fence.MayServe);

            // The table stops answering (its store restarting): a read hangs until the fence of the clock cuts it off, and
            // the confirmation ages with the clock alone. Just short of the fence the silo still serves; at the fence it
            // does not.
            _table.Hang = true;
            _time.Advance(_options.MembershipFence - fence.SinceConfirmation - TimeSpan.FromMilliseconds(1));
            Assert.True(fence.MayServe);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.False(fence.MayServe);
            Assert.Equal(_options.MembershipFence, fence.SinceConfirmation);

            // The table answers again: the next check, an interval of the clock later, confirms the silo.
            _table.Hang = false;
            await Eventually.TrueAsync(() => AdvanceThen(_options.MembershipCheckInterval, () => fence.MayServe), Timeout, "a good read to lift the fence");
            Assert.True(fence.SinceConfirmation < _options.MembershipFence);
        }
        finally
        {
            await lifecycle.OnStop(CancellationToken.None);
        }
    }

    private bool AdvanceThen(TimeSpan step, Func<bool> condition)
    {
        _time.Advance(step);
        return condition();
    }

    /// <summary>A membership table holding this silo's row, Active; <see cref="Hang"/> makes reads never answer.</summary>
    private sealed class ScriptedMembershipTable : IMembershipTable
    {
        private int _reads;

        public volatile bool Hang;

        public int Reads => Volatile.Read(ref _reads);

        public Task<MembershipTableData> ReadAll()
        {
            Interlocked.Increment(ref _reads);
            if (Hang)
            {
                return new TaskCompletionSource<MembershipTableData>().Task;
            }

            var row = new MembershipEntry { SiloAddress = Self, Status = SiloStatus.Active, SiloName = "self", HostName = "localhost" };
            return Task.FromResult(new MembershipTableData(Tuple.Create(row, "1"), new TableVersion(1, "1")));
        }

        public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken) => ReadAll();

        public Task InitializeMembershipTable(bool tryInitTableVersion) => Task.CompletedTask;

        public Task DeleteMembershipTableEntries(string clusterId) => throw new NotSupportedException();

        public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => throw new NotSupportedException();

        public Task<MembershipTableData> ReadRow(SiloAddress key) => throw new NotSupportedException();

        public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => throw new NotSupportedException();

        public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => throw new NotSupportedException();

        public Task UpdateIAmAlive(MembershipEntry entry) => throw new NotSupportedException();
    }

    private sealed class LocalSilo : ILocalSiloDetails
    {
        public string Name => "self";

        public string ClusterId => "fence-tests";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => Self;

        public SiloAddress GatewayAddress => Self;
    }

    private sealed class NoFatalErrors : IFatalErrorHandler
    {
        public bool IsUnexpected(Exception exception) => true;

        public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null) =>
            throw new InvalidOperationException("The fence stopped the silo: " + context, exception);
    }
}

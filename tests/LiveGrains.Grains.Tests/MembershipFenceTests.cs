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
    private readonly ScriptedMembershipTable _table;
    private readonly NoFatalErrors _fatal = new();
    private readonly FailoverOptions _options = new() { MembershipFenceSeconds = 60, MembershipCheckIntervalSeconds = 20, DirectoryHoldSeconds = 90 };

    public MembershipFenceTests() => _table = new ScriptedMembershipTable(_time);

    [Fact]
    public async Task ASiloIsFencedOnceItsMembershipIsUnconfirmedForTheFenceOfTheClockAndServesAgainAfterTheNextGoodRead()
    {
        var (fence, lifecycle) = await StartAsync();
        try
        {
            // A check every interval of the clock.
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

    /// <summary>
    /// Reads that each take half the fence (a store slowed by load) still keep the silo serving: a read starts every
    /// interval without waiting for the one before, so the confirmation ages by the interval plus one read, never two.
    /// One after the other they left it unconfirmed for interval + 2 reads (80 s of a 60 s fence here).
    /// </summary>
    [Fact]
    public async Task SlowReadsOverlapSoASiloThatReadsItsRowKeepsServing()
    {
        _table.Latency = TimeSpan.FromSeconds(30);
        var (fence, lifecycle) = await StartAsync();
        try
        {
            await Eventually.TrueAsync(() => AdvanceThen(_options.MembershipCheckInterval, () => _table.Reads >= 1), Timeout, "the first read");
            // Small steps: a loop continuation that runs only after the next step starts its read a step late, and the
            // margin (fence 60 s against interval + read, 50 s) takes five such steps.
            var step = TimeSpan.FromSeconds(2);
            for (var elapsed = step; elapsed <= TimeSpan.FromMinutes(3); elapsed += step)
            {
                _time.Advance(step);
                await SettleAsync();
                Assert.True(fence.MayServe, $"fenced after {elapsed.TotalSeconds} s of the clock, unconfirmed for {fence.SinceConfirmation.TotalSeconds} s");
            }

            Assert.True(_table.MaxInFlight > 1, "reads overlapped");
            Assert.True(_table.MaxInFlight <= 3, $"at most fence / interval reads in flight, got {_table.MaxInFlight}");
        }
        finally
        {
            await lifecycle.OnStop(CancellationToken.None);
        }

        Assert.Null(_fatal.Called);
    }

    /// <summary>
    /// Overlapping reads while the silo joins: a read that started before the silo's row was written may answer after a
    /// later read found the row. It finds no row, and that is no death: the silo is not stopped.
    /// </summary>
    [Fact]
    public async Task ASlowReadFromBeforeTheRowWasWrittenIsNoDeathOnceALaterReadFoundIt()
    {
        _table.RowMissing = true;
        _table.Latency = TimeSpan.FromSeconds(50);
        var (fence, lifecycle) = await StartAsync();
        try
        {
            await Eventually.TrueAsync(() => AdvanceThen(TimeSpan.FromSeconds(1), () => _table.Reads >= 1), Timeout, "the first read (no row yet, slow)");

            // The silo's row is written; the next read answers at once and finds it.
            _table.RowMissing = false;
            _table.Latency = TimeSpan.Zero;
            await Eventually.TrueAsync(() => AdvanceThen(TimeSpan.FromSeconds(5), () => _table.Reads >= 2 && _table.Answered >= 2), Timeout, "a later read that found the row, and the slow one's answer");
            await SettleAsync();

            Assert.Null(_fatal.Called);
            Assert.True(fence.MayServe);
        }
        finally
        {
            await lifecycle.OnStop(CancellationToken.None);
        }
    }

    private async Task<(MembershipFence Fence, SiloLifecycleSubject Lifecycle)> StartAsync()
    {
        var fence = new MembershipFence(
            _table, new LocalSilo(), _fatal, Options.Create(_options), _time, NullLogger<MembershipFence>.Instance);
        var lifecycle = new SiloLifecycleSubject(NullLogger<SiloLifecycleSubject>.Instance);
        fence.Participate(lifecycle);
        await lifecycle.OnStart(CancellationToken.None);
        return (fence, lifecycle);
    }

    /// <summary>Lets the continuations of timers the fake clock just fired run (they go through the thread pool).</summary>
    private static Task SettleAsync() => Task.Delay(TimeSpan.FromMilliseconds(50));

    private bool AdvanceThen(TimeSpan step, Func<bool> condition)
    {
        _time.Advance(step);
        return condition();
    }

    /// <summary>
    /// A membership table holding this silo's row, Active: <see cref="Hang"/> makes reads never answer,
    /// <see cref="Latency"/> makes them answer that much later on the fake clock, <see cref="RowMissing"/> leaves the row
    /// out (as before the silo wrote it); each read answers as the table was when it started.
    /// </summary>
    private sealed class ScriptedMembershipTable(TimeProvider time) : IMembershipTable
    {
        private int _reads;
        private int _answered;
        private int _inFlight;
        private int _maxInFlight;

        public volatile bool Hang;

        public volatile bool RowMissing;

        public TimeSpan Latency { get; set; }

        public int Reads => Volatile.Read(ref _reads);

        public int Answered => Volatile.Read(ref _answered);

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public Task<MembershipTableData> ReadAll()
        {
            Interlocked.Increment(ref _reads);
            if (Hang)
            {
                return new TaskCompletionSource<MembershipTableData>().Task;
            }

            var data = RowMissing
                ? new MembershipTableData(new TableVersion(1, "1"))
                : new MembershipTableData(
                    Tuple.Create(new MembershipEntry { SiloAddress = Self, Status = SiloStatus.Active, SiloName = "self", HostName = "localhost" }, "1"),
                    new TableVersion(1, "1"));
            return AnswerAsync(data, Latency);
        }

        private async Task<MembershipTableData> AnswerAsync(MembershipTableData data, TimeSpan latency)
        {
            var inFlight = Interlocked.Increment(ref _inFlight);
            int max;
            while ((max = Volatile.Read(ref _maxInFlight)) < inFlight && Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) != max)
            {
            }

            try
            {
                if (latency > TimeSpan.Zero)
                {
                    await Task.Delay(latency, time);
                }

                Interlocked.Increment(ref _answered);
                return data;
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
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

    /// <summary>Records a stop of the silo (and throws, as the process would not go on).</summary>
    private sealed class NoFatalErrors : IFatalErrorHandler
    {
        public volatile string? Called;

        public bool IsUnexpected(Exception exception) => true;

        public void OnFatalException(object? sender = null, string? context = null, Exception? exception = null)
        {
            Called = context ?? "(no context)";
            throw new InvalidOperationException("The fence stopped the silo: " + context, exception);
        }
    }
}

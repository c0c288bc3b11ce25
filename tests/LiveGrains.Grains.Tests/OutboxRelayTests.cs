using System.Collections.Concurrent;
using System.Diagnostics;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;
using LiveGrains.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace LiveGrains.Grains.Tests;

/// <summary>
/// An event sink that does not answer while closed, as the webhook sink did not while the tenant's registry grain
/// was on a killed silo, and records what it took once open.
/// </summary>
public sealed class GatedEventSink : IResourceEventSink
{
    private volatile TaskCompletionSource _open = Opened();

    public ConcurrentQueue<ResourceEvent> Taken { get; } = new();

    public void Close() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _open.TrySetResult();

    public async Task PublishAsync(IReadOnlyList<ResourceEvent> events)
    {
        await _open.Task;
        foreach (var e in events)
        {
            Taken.Enqueue(e);
        }
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}

/// <summary>A one-silo cluster whose event sink a test can stop answering.</summary>
public class GatedSinkClusterFixture : IAsyncLifetime
{
    public GatedEventSink Sink { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        Cluster = await TestClusters.DeployAsync(
            1,
            silo =>
            {
                silo.AddMemoryGrainStorage(LiveGrainsStorage.State);
                silo.Services.AddSingleton<IResourceEventSink>(Sink);
                ConfigureSilo(silo);
            },
            Settings);
    }

    /// <summary>What a derived fixture adds to the silo.</summary>
    protected virtual void ConfigureSilo(ISiloBuilder silo)
    {
    }

    /// <summary>The configuration a derived fixture gives the silo.</summary>
    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// The gated-sink cluster with LiveGrains' clock a fake one that stands still until a test advances it, and the
/// statistics written behind once an hour of that clock: what the clock decides happens only when a test moves it.
/// </summary>
public sealed class FakeClockClusterFixture : GatedSinkClusterFixture
{
    public const int PersistIntervalSeconds = 3600;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 4, 1, 12, 0, 0, TimeSpan.Zero));

    protected override void ConfigureSilo(ISiloBuilder silo) => silo.Services.AddSingleton(new LiveGrainsClock(Time));

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Stats:PersistIntervalSeconds"] = PersistIntervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

[CollectionDefinition(Name)]
public sealed class FakeClockCollection : ICollectionFixture<FakeClockClusterFixture>
{
    public const string Name = "fake-clock";
}

/// <summary>The busy check is a rule on LiveGrains' clock (issue 10): a fake clock decides when a grain is busy.</summary>
[Collection(FakeClockCollection.Name)]
public sealed class OutboxRelayClockTests(FakeClockClusterFixture fixture)
{
    [Fact]
    public async Task AGrainAskedWithinAHandOffWaitOfTheClockIsBusyAndOneAskedAfterItWaitsForItsHandOff()
    {
        var sink = fixture.Sink;
        var (_, room) = await fixture.Client.NewRoomAsync();
        (await room.GoLiveAsync(new GoLiveCommand("first", null))).Value(); // its hand-off completes: the sink answers
        sink.Close();
        LiveDto later;
        try
        {
            // The clock has not moved since that hand-off: busy, so the go-live does not wait for the stalled sink.
            var watch = Stopwatch.StartNew();
            (await room.GoLiveAsync(new GoLiveCommand("busy", null))).Value();
            Assert.True(watch.Elapsed < OutboxRelay.HandOffWait, $"the busy room answered after {watch.Elapsed}, as if it waited for its hand-off");

            // A hand-off wait of the clock later it is not busy (however little real time passed): it waits for its
            // hand-off, for the whole (real-time) bound since the sink does not answer.
            fixture.Time.Advance(OutboxRelay.HandOffWait);
            watch.Restart();
            later = (await room.GoLiveAsync(new GoLiveCommand("not busy", null))).Value().Live;
            Assert.True(watch.Elapsed >= OutboxRelay.HandOffWait - TimeSpan.FromMilliseconds(50), $"the room answered after {watch.Elapsed}, without waiting for its hand-off");
        }
        finally
        {
            sink.Open();
        }

        await Eventually.TrueAsync(
            () => sink.Taken.Any(e => e.ResourceId == later.LiveId && e.Type == EventTypes.LiveStarted),
            TimeSpan.FromSeconds(30),
            "the held-back events handed off once the sink answers");
    }
}

public sealed class OutboxRelayTests(GatedSinkClusterFixture fixture) : IClassFixture<GatedSinkClusterFixture>
{
    [Fact]
    public async Task RoomsAndLivesAnswerWhileTheEventSinkHangsAndTheirEventsFollowInOrderOnceItAnswers()
    {
        var sink = fixture.Sink;
        sink.Close();
        try
        {
            // Each of these records events; none may wait for the sink longer than the bounded hand-off (before, each
            // waited a whole call timeout).
            var (_, room) = await fixture.Client.NewRoomAsync();
            var first = (await room.GoLiveAsync(new GoLiveCommand("first", null))).Value().Live;
            var second = (await room.GoLiveAsync(new GoLiveCommand("second", null))).Value().Live;
            Assert.Equal(LiveStatus.Live, second.Status);
            Assert.DoesNotContain(sink.Taken, e => e.ResourceId == first.LiveId || e.ResourceId == second.LiveId);

            sink.Open();
            await Eventually.TrueAsync(
                () => sink.Taken.Any(e => e.ResourceId == first.LiveId && e.Type == EventTypes.LiveEnded)
                    && sink.Taken.Any(e => e.ResourceId == second.LiveId && e.Type == EventTypes.LiveStarted),
                TimeSpan.FromSeconds(30),
                "the held-back events handed off");

            foreach (var resource in sink.Taken.GroupBy(e => (e.ResourceType, e.ResourceId)))
            {
                var sequences = resource.Select(e => e.Sequence).Distinct().ToList();
                Assert.Equal(sequences.Order(), sequences);
            }
        }
        finally
        {
            sink.Open();
        }
    }

    [Fact]
    public async Task DecisionsBehindAStalledHandOffAnswerWithoutWaitingForIt()
    {
        var sink = fixture.Sink;
        sink.Close();
        try
        {
            // The create waits the bounded hand-off and registers the reminder; the go-lives behind it need not wait
            // too (each did, so a room's queue drained at one decision a second while its sink stalled).
            var (_, room) = await fixture.Client.NewRoomAsync();
            var started = DateTime.UtcNow;
            LiveDto last = null!;
            for (var i = 0; i < 3; i++)
            {
                last = (await room.GoLiveAsync(new GoLiveCommand($"behind {i}", null))).Value().Live;
            }

            Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, 2 * OutboxRelay.HandOffWait);

            sink.Open();
            await Eventually.TrueAsync(
                () => sink.Taken.Any(e => e.ResourceId == last.LiveId && e.Type == EventTypes.LiveStarted),
                TimeSpan.FromSeconds(30),
                "the events queued behind the stalled hand-off handed off");
        }
        finally
        {
            sink.Open();
        }
    }

    [Fact]
    public async Task ARoomDecidingBackToBackRegistersTheOutboxReminderInsteadOfWaitingForItsHandOffs()
    {
        // The first go-live waits for its hand-off (the sink answers); the one right behind it does not wait, so the
        // reminder must cover its events until they are handed off.
        var (roomId, room) = await fixture.Client.NewRoomAsync();
        (await room.GoLiveAsync(new GoLiveCommand("first", null))).Value();
        var live = (await room.GoLiveAsync(new GoLiveCommand("right behind", null))).Value().Live;

        Assert.Contains(OutboxRelay.ReminderName, await RoomRemindersAsync(roomId));
        await Eventually.TrueAsync(
            () => fixture.Sink.Taken.Any(e => e.ResourceId == live.LiveId && e.Type == EventTypes.LiveStarted),
            TimeSpan.FromSeconds(10),
            "the go-live's event handed off behind the answer");
    }

    [Fact]
    public async Task AStalledHandOffRegistersTheOutboxReminderSoThatACrashCannotStrandTheEvents()
    {
        var sink = fixture.Sink;
        sink.Close();
        try
        {
            var (roomId, room) = await fixture.Client.NewRoomAsync();
            var started = DateTime.UtcNow;
            (await room.GoLiveAsync(new GoLiveCommand("stalled", null))).Value();

            // The call answered within the bounded hand-off, not a call timeout (without waiting at all: the room's create
            // had already waited it out and registered the reminder).
            Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(4.5));
            Assert.Contains(OutboxRelay.ReminderName, await RoomRemindersAsync(roomId));
        }
        finally
        {
            sink.Open();
        }
    }

    /// <summary>The names of the reminders a room of the test tenant has registered, as the reminder table holds them.</summary>
    private async Task<string[]> RoomRemindersAsync(string roomId)
    {
        var reminders = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IReminderTable>();
        var rows = await reminders.ReadRows(GrainId.Create("room", TenantKey.Compose(GrainTestKit.Acme, roomId)));
        return [.. rows.Reminders.Select(r => r.ReminderName)];
    }
}

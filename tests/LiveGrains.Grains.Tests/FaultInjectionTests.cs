using System.Collections.Concurrent;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Lives;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Orleans.TestingHost;

namespace LiveGrains.Grains.Tests;

/// <summary>
/// Wraps the memory storage under the name "live-state" and throws on writes a test armed it to fail, as a
/// storage that times out or a process that dies between the room's write and a live's write would.
/// </summary>
public sealed class FaultInjectingStorage(IGrainStorage inner) : IGrainStorage
{
    private readonly ConcurrentQueue<Func<GrainId, object?, bool>> _armed = new();

    public int FailedWrites { get; private set; }

    /// <summary>The next write that matches <paramref name="predicate"/> (grain id, state) throws instead of landing.</summary>
    public void FailNextWrite(Func<GrainId, object?, bool> predicate) => _armed.Enqueue(predicate);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_armed.TryPeek(out var predicate) && predicate(grainId, grainState.State) && _armed.TryDequeue(out _))
        {
            FailedWrites++;
            throw new IOException($"Injected failure writing {grainId}.");
        }

        return inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}

/// <summary>A two-silo cluster of its own whose "live-state" storage can be told to fail.</summary>
public sealed class FaultyClusterFixture : IAsyncLifetime
{
    private const string InnerStorage = "live-state-inner";

    /// <summary>One injector for both in-process silos, so a test arms it wherever the grain lives.</summary>
    public static FaultInjectingStorage? Storage { get; private set; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 2, 1, 12, 0, 0, TimeSpan.Zero));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public FaultInjectingStorage Faults => Storage!;

    public async Task InitializeAsync()
    {
        var clock = new LiveGrainsClock(Time);
        Cluster = await TestClusters.DeployAsync(2, silo =>
        {
            silo.AddMemoryGrainStorage(InnerStorage);
            silo.Services.AddKeyedSingleton<IGrainStorage>(LiveGrainsStorage.State, (sp, _) =>
            {
                lock (typeof(FaultyClusterFixture))
                {
                    // Memory storage keeps its data in grains, so each silo's wrapper sees the same data anyway.
                    return Storage ??= new FaultInjectingStorage(sp.GetRequiredKeyedService<IGrainStorage>(InnerStorage));
                }
            });
            silo.Services.AddSingleton(clock);
        });
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }

    /// <summary>Deactivates every idle grain on every silo, so the next call reads what storage holds.</summary>
    public async Task DeactivateEverythingAsync()
    {
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
    }
}

public sealed class FaultInjectionTests(FaultyClusterFixture fixture) : IClassFixture<FaultyClusterFixture>
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task WhenTheSupersededLivesWriteFailsReadsStillConvergeToOneActiveLive()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        var old = (await room.GoLiveAsync(new GoLiveCommand("old", null))).Value().Live;
        ArmLiveWrite(id => id == old.LiveId);

        await Assert.ThrowsAnyAsync<Exception>(() => room.GoLiveAsync(new GoLiveCommand("new", null)));

        var (roomNow, lives) = await ConvergedAsync(room);
        var active = Assert.Single(lives, l => l.LiveId == roomNow.ActiveLiveId);
        Assert.Equal(LiveStatus.Live, active.Status);
        Assert.NotEqual(old.LiveId, active.LiveId);
        var closed = Assert.Single(lives, l => l.LiveId == old.LiveId);
        Assert.Equal(LiveStatus.Ended, closed.Status);
        Assert.Equal(EndReason.Superseded, closed.EndReason);
        await AssertSurvivesReactivationAsync(roomId, roomNow, lives);
    }

    [Fact]
    public async Task WhenTheNewLivesCreateFailsReadsConvergeAndTheActiveLiveExists()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        var old = (await room.GoLiveAsync(new GoLiveCommand("old", null))).Value().Live;
        ArmLiveWrite(id => id != old.LiveId, room: roomId);

        await Assert.ThrowsAnyAsync<Exception>(() => room.GoLiveAsync(new GoLiveCommand("new", null)));

        var (roomNow, lives) = await ConvergedAsync(room);
        Assert.Equal(2, lives.Count);
        Assert.NotNull(roomNow.ActiveLiveId);
        Assert.NotEqual(old.LiveId, roomNow.ActiveLiveId);
        Assert.Equal(LiveStatus.Live, Assert.Single(lives, l => l.LiveId == roomNow.ActiveLiveId).Status);
        Assert.Equal(EndReason.Superseded, Assert.Single(lives, l => l.LiveId == old.LiveId).EndReason);
        await AssertSurvivesReactivationAsync(roomId, roomNow, lives);
    }

    [Fact]
    public async Task WhenTheRoomsDecisionWriteFailsNothingOfThatGoLiveHappens()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        var old = (await room.GoLiveAsync(new GoLiveCommand("old", null))).Value().Live;
        var roomKey = TenantKey.Compose(GrainTestKit.Acme, roomId);
        fixture.Faults.FailNextWrite((id, _) => id.Type.ToString() == "room" && id.Key.ToString() == roomKey);

        await Assert.ThrowsAnyAsync<Exception>(() => room.GoLiveAsync(new GoLiveCommand("new", null)));

        var (roomNow, lives) = await ConvergedAsync(room);
        Assert.Equal(old.LiveId, roomNow.ActiveLiveId);
        Assert.Equal(old.LiveId, Assert.Single(lives).LiveId);
        Assert.Equal(LiveStatus.Live, lives[0].Status);
        await AssertSurvivesReactivationAsync(roomId, roomNow, lives);

        // The room works normally afterwards.
        var next = (await room.GoLiveAsync(new GoLiveCommand("next", null))).Value();
        Assert.Equal(old.LiveId, next.ClosedLive!.LiveId);
    }

    [Fact]
    public async Task WhenEndingTheActiveLiveFailsToWriteTheLiveEndsOnRetryAndStaysEnded()
    {
        var (roomId, room) = await Grains.NewRoomAsync();
        var live = (await room.GoLiveAsync(new GoLiveCommand("only", null))).Value().Live;
        ArmLiveWrite(id => id == live.LiveId);

        await Assert.ThrowsAnyAsync<Exception>(() => Grains.TransitionLiveAsync(GrainTestKit.Acme, live.LiveId, new LiveCommand(LiveCommandKind.End)));

        var (roomNow, lives) = await ConvergedAsync(room);
        Assert.Null(roomNow.ActiveLiveId);
        Assert.Equal(LiveStatus.Ended, Assert.Single(lives).Status);
        await AssertSurvivesReactivationAsync(roomId, roomNow, lives);
    }

    private void ArmLiveWrite(Func<string, bool> liveId, string? room = null) =>
        fixture.Faults.FailNextWrite((id, state) =>
            id.Type.ToString() == "live"
            && liveId(id.Key.ToString()!)
            && (room is null || state is LiveState { RoomId: var r } && r == room));

    /// <summary>Reads the room and every live until the invariant holds (reads are what drive reconciliation).</summary>
    private async Task<(RoomDto Room, List<LiveDto> Lives)> ConvergedAsync(IRoomGrain room)
    {
        fixture.Time.Advance(TimeSpan.FromSeconds(5));
        return await Testing.Eventually.ValueAsync(
            async () =>
            {
                var roomNow = (await room.GetAsync()).Value();
                var ids = (await room.AllLivesAsync()).Select(l => l.LiveId).ToList();
                var lives = new List<LiveDto>();
                foreach (var id in ids)
                {
                    lives.Add((await Grains.Live(id).GetAsync(GrainTestKit.Acme)).Value());
                }

                return (roomNow, lives);
            },
            r => IsConsistent(r.roomNow, r.lives),
            TimeSpan.FromSeconds(20),
            "the room and its lives agree on one active live");
    }

    /// <summary>
    /// A later room write drops the persisted pending intents; then every grain goes and comes back from storage.
    /// What readers see must not change: nothing may have been true only in memory.
    /// </summary>
    private async Task AssertSurvivesReactivationAsync(string roomId, RoomDto before, List<LiveDto> livesBefore)
    {
        var room = Grains.Room(roomId);
        var renamed = (await room.UpdateAsync(new UpdateRoomCommand("renamed", null, null, null))).Value();
        await fixture.DeactivateEverythingAsync();
        fixture.Time.Advance(TimeSpan.FromSeconds(5));

        var after = (await room.GetAsync()).Value();
        Assert.Equal(renamed, after);
        Assert.Equal(before.ActiveLiveId, after.ActiveLiveId);
        var history = await room.AllLivesAsync();
        Assert.Equal(livesBefore.Select(l => l.LiveId), history.Select(l => l.LiveId));
        foreach (var expected in livesBefore)
        {
            var read = (await Grains.Live(expected.LiveId).GetAsync(GrainTestKit.Acme)).Value();
            Assert.Equal(expected.Status, read.Status);
            Assert.Equal(expected.EndReason, read.EndReason);
        }

        var lives = new List<LiveDto>();
        foreach (var l in history)
        {
            lives.Add((await Grains.Live(l.LiveId).GetAsync(GrainTestKit.Acme)).Value());
        }

        Assert.True(IsConsistent(after, lives), "The invariant broke after reactivation from storage.");
    }

    private static bool IsConsistent(RoomDto room, List<LiveDto> lives)
    {
        var onAir = lives.Where(l => l.Status is LiveStatus.Live or LiveStatus.Paused).Select(l => l.LiveId).ToList();
        return onAir.Count <= 1
            && onAir.SingleOrDefault() == room.ActiveLiveId
            && (room.ActiveLiveId is null || lives.Any(l => l.LiveId == room.ActiveLiveId));
    }
}

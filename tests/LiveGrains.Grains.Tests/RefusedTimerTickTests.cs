using LiveGrains.Abstractions;
using LiveGrains.ServiceDefaults.Failover;
using LiveGrains.Testing;

namespace LiveGrains.Grains.Tests;

/// <summary>
/// Refuses every grain timer tick, as the membership fence did (until session 10) while a silo could not confirm its
/// membership. Orleans never re-arms a grain timer whose tick a filter refused.
/// </summary>
public sealed class TimerTickRefusingFilter : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context) =>
        MembershipFenceFilter.IsTimerTick(context.Request.GetInterfaceType())
            ? throw new SiloFencedException("timer ticks are refused in this cluster")
            : context.Invoke();
}

/// <summary>A one-silo cluster that refuses every grain timer tick, with an event sink that records what it took.</summary>
public sealed class TickRefusingClusterFixture : GatedSinkClusterFixture
{
    protected override void ConfigureSilo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter<TimerTickRefusingFilter>();
}

public sealed class RefusedTimerTickTests(TickRefusingClusterFixture fixture) : IClassFixture<TickRefusingClusterFixture>
{
    [Fact]
    public async Task ARoomHandsOffItsEventsEvenWhenEveryTimerTickIsRefused()
    {
        // The hand-off ran on a grain timer: one refused tick and it never ran again in that activation, so every later
        // decision waited the whole hand-off wait with its events stuck in the outbox (the 500-way race on Azurite).
        var (roomId, room) = await fixture.Client.NewRoomAsync();
        Assert.Contains(fixture.Sink.Taken, e => e.ResourceId == roomId && e.Type == EventTypes.RoomCreated);
        var lives = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            lives.Add((await room.GoLiveAsync(new GoLiveCommand($"live {i}", null))).Value().Live.LiveId);
        }

        await Eventually.TrueAsync(
            () => lives.All(id => fixture.Sink.Taken.Any(e => e.ResourceId == id && e.Type == EventTypes.LiveStarted)),
            TimeSpan.FromSeconds(10),
            "every go-live's event handed off");
    }

    [Fact]
    public void TheMembershipFenceTellsGrainTimerTicksWhichItHoldsFromGrainCallsWhichItRefuses()
    {
        // By name, since Orleans' tick interface is internal: this fails if an upgrade renames it.
        Assert.True(MembershipFenceFilter.IsTimerTick(Type.GetType("Orleans.Runtime.IGrainTimerInvoker, Orleans.Runtime", throwOnError: true)));
        Assert.False(MembershipFenceFilter.IsTimerTick(typeof(IRoomGrain)));
        Assert.False(MembershipFenceFilter.IsTimerTick(null));
    }
}

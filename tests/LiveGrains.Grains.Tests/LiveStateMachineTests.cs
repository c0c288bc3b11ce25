using LiveGrains.Abstractions;
using LiveGrains.Grains.Lives;

namespace LiveGrains.Grains.Tests;

public sealed class LiveStateMachineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Every (status, command) pair with whether api.md allows it.</summary>
    public static TheoryData<LiveStatus, LiveCommandKind, bool> Matrix()
    {
        var allowed = new HashSet<(LiveStatus, LiveCommandKind)>
        {
            (LiveStatus.Scheduled, LiveCommandKind.Ready),
            (LiveStatus.Scheduled, LiveCommandKind.Start),
            (LiveStatus.Ready, LiveCommandKind.Start),
            (LiveStatus.Live, LiveCommandKind.Pause),
            (LiveStatus.Paused, LiveCommandKind.Resume),
            (LiveStatus.Scheduled, LiveCommandKind.End),
            (LiveStatus.Ready, LiveCommandKind.End),
            (LiveStatus.Live, LiveCommandKind.End),
            (LiveStatus.Paused, LiveCommandKind.End),
        };
        var data = new TheoryData<LiveStatus, LiveCommandKind, bool>();
        foreach (var status in Enum.GetValues<LiveStatus>())
        {
            foreach (var kind in Enum.GetValues<LiveCommandKind>())
            {
                data.Add(status, kind, allowed.Contains((status, kind)));
            }
        }

        return data;
    }

    [Fact]
    public void TheMatrixCoversEveryStatusAndEveryCommand() =>
        Assert.Equal(Enum.GetValues<LiveStatus>().Length * Enum.GetValues<LiveCommandKind>().Length, Matrix().Count);

    [Theory]
    [MemberData(nameof(Matrix))]
    public void EachCommandIsAllowedOrRefusedExactlyAsTheContractSays(LiveStatus status, LiveCommandKind kind, bool allowed)
    {
        var transition = LiveStateMachine.Apply(In(status), new LiveCommand(kind, "someone"), T0.AddMinutes(30));

        Assert.Equal(allowed, transition.IsSuccess);
        Assert.Equal(allowed, LiveStateMachine.IsAllowed(status, kind));
        if (allowed)
        {
            Assert.NotNull(transition.Next);
            Assert.NotNull(transition.EventType);
            Assert.Null(transition.Error);
        }
        else
        {
            Assert.Null(transition.Next);
            Assert.Equal(DomainErrorCode.InvalidTransition, transition.Error!.Code);
            Assert.Contains(kind.ToString().ToLowerInvariant(), transition.Error.Detail, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(LiveStatus.Scheduled, LiveCommandKind.Ready, LiveStatus.Ready, "live.ready")]
    [InlineData(LiveStatus.Scheduled, LiveCommandKind.Start, LiveStatus.Live, "live.started")]
    [InlineData(LiveStatus.Ready, LiveCommandKind.Start, LiveStatus.Live, "live.started")]
    [InlineData(LiveStatus.Live, LiveCommandKind.Pause, LiveStatus.Paused, "live.paused")]
    [InlineData(LiveStatus.Paused, LiveCommandKind.Resume, LiveStatus.Live, "live.resumed")]
    [InlineData(LiveStatus.Live, LiveCommandKind.End, LiveStatus.Ended, "live.ended")]
    [InlineData(LiveStatus.Scheduled, LiveCommandKind.End, LiveStatus.Ended, "live.ended")]
    public void AnAllowedCommandMovesToTheNextStatusWithItsEvent(LiveStatus from, LiveCommandKind kind, LiveStatus to, string eventType)
    {
        var transition = LiveStateMachine.Apply(In(from), new LiveCommand(kind), T0.AddMinutes(1));

        Assert.Equal(to, transition.Next!.Status);
        Assert.Equal(eventType, transition.EventType);
    }

    [Theory]
    [InlineData(EndReason.Ended)]
    [InlineData(EndReason.Superseded)]
    [InlineData(EndReason.ReconnectTimeout)]
    public void EndingALiveThatStartedKeepsTheGivenReason(EndReason reason)
    {
        foreach (var status in new[] { LiveStatus.Live, LiveStatus.Paused })
        {
            var ended = LiveStateMachine.Apply(In(status), new LiveCommand(LiveCommandKind.End, "ops", reason), T0.AddHours(1)).Next!;

            Assert.Equal(LiveStatus.Ended, ended.Status);
            Assert.Equal(reason, ended.EndReason);
            Assert.Equal("ops", ended.EndedBy);
            Assert.Equal(T0.AddHours(1), ended.EndedAt);
        }
    }

    [Theory]
    [InlineData(LiveStatus.Scheduled, EndReason.Ended)]
    [InlineData(LiveStatus.Scheduled, EndReason.Superseded)]
    [InlineData(LiveStatus.Ready, EndReason.Ended)]
    [InlineData(LiveStatus.Ready, EndReason.ReconnectTimeout)]
    public void EndingALiveThatNeverStartedIsCancelledWhateverTheReason(LiveStatus status, EndReason reason)
    {
        var ended = LiveStateMachine.Apply(In(status), new LiveCommand(LiveCommandKind.End, "host", reason), T0.AddMinutes(5)).Next!;

        Assert.Equal(EndReason.Cancelled, ended.EndReason);
        Assert.Null(ended.StartedAt);
        Assert.Equal(0, ended.OnAir(T0.AddHours(5)).Ticks);
    }

    [Fact]
    public void EveryStepRecordsItsTimestampAndActor()
    {
        var scheduledFor = T0.AddHours(2);
        var created = LiveLifecycle.Scheduled(T0, scheduledFor);
        Assert.Equal(LiveStatus.Scheduled, created.Status);
        Assert.Equal(T0, created.CreatedAt);
        Assert.Equal(scheduledFor, created.ScheduledStartTime);
        Assert.Null(created.ReadyAt);
        Assert.Null(created.StartedAt);
        Assert.Null(created.PausedAt);
        Assert.Null(created.EndedAt);
        Assert.Null(created.EndReason);

        var ready = Step(created, LiveCommandKind.Ready, T0.AddMinutes(10), "producer");
        Assert.Equal(T0.AddMinutes(10), ready.ReadyAt);
        Assert.Null(ready.StartedBy);

        var live = Step(ready, LiveCommandKind.Start, T0.AddMinutes(20), "alice");
        Assert.Equal(T0.AddMinutes(20), live.StartedAt);
        Assert.Equal("alice", live.StartedBy);
        Assert.Equal(T0.AddMinutes(10), live.ReadyAt);

        var paused = Step(live, LiveCommandKind.Pause, T0.AddMinutes(30), "alice");
        Assert.Equal(T0.AddMinutes(30), paused.PausedAt);

        var ended = Step(paused, LiveCommandKind.End, T0.AddMinutes(40), "bob");
        Assert.Equal(T0.AddMinutes(40), ended.EndedAt);
        Assert.Equal("bob", ended.EndedBy);
        Assert.Equal("alice", ended.StartedBy);
        Assert.Equal(EndReason.Ended, ended.EndReason);
        Assert.Equal(T0, ended.CreatedAt);
        Assert.Equal(scheduledFor, ended.ScheduledStartTime);
    }

    [Fact]
    public void DurationCountsOnlyTimeOnAirAcrossPauseResumeCycles()
    {
        var l = Step(LiveLifecycle.Scheduled(T0, null), LiveCommandKind.Start, T0, "a");
        Assert.Equal(TimeSpan.FromSeconds(100), l.OnAir(T0.AddSeconds(100)));

        l = Step(l, LiveCommandKind.Pause, T0.AddSeconds(100));
        Assert.Equal(TimeSpan.FromSeconds(100), l.OnAir(T0.AddSeconds(100)));
        Assert.Equal(TimeSpan.FromSeconds(100), l.OnAir(T0.AddSeconds(1000)));

        l = Step(l, LiveCommandKind.Resume, T0.AddSeconds(400));
        Assert.Equal(TimeSpan.FromSeconds(150), l.OnAir(T0.AddSeconds(450)));

        l = Step(l, LiveCommandKind.Pause, T0.AddSeconds(500));
        l = Step(l, LiveCommandKind.Resume, T0.AddSeconds(600));
        Assert.Equal(TimeSpan.FromSeconds(230), l.OnAir(T0.AddSeconds(630)));

        l = Step(l, LiveCommandKind.End, T0.AddSeconds(700));
        Assert.Equal(TimeSpan.FromSeconds(300), l.OnAir(T0.AddSeconds(700)));
        Assert.Equal(TimeSpan.FromSeconds(300), l.OnAir(T0.AddDays(3)));
    }

    [Fact]
    public void EndingWhilePausedDoesNotCountThePausedTail()
    {
        var l = Step(LiveLifecycle.Scheduled(T0, null), LiveCommandKind.Start, T0.AddSeconds(10));
        l = Step(l, LiveCommandKind.Pause, T0.AddSeconds(70));
        l = Step(l, LiveCommandKind.End, T0.AddSeconds(500));

        Assert.Equal(TimeSpan.FromSeconds(60), l.OnAir(T0.AddSeconds(900)));
    }

    [Fact]
    public void AClockThatStepsBackNeverYieldsNegativeDuration()
    {
        var l = Step(LiveLifecycle.Scheduled(T0, null), LiveCommandKind.Start, T0.AddSeconds(100));

        Assert.Equal(TimeSpan.Zero, l.OnAir(T0));
    }

    [Fact]
    public void ARefusedCommandLeavesTheLifecycleUntouched()
    {
        var ended = Step(Step(LiveLifecycle.Scheduled(T0, null), LiveCommandKind.Start, T0), LiveCommandKind.End, T0.AddSeconds(5));
        var snapshot = ended with { };

        foreach (var kind in Enum.GetValues<LiveCommandKind>())
        {
            Assert.False(LiveStateMachine.Apply(ended, new LiveCommand(kind), T0.AddSeconds(60)).IsSuccess);
        }

        Assert.Equal(snapshot, ended);
    }

    private static LiveLifecycle Step(LiveLifecycle from, LiveCommandKind kind, DateTimeOffset at, string? by = null)
    {
        var transition = LiveStateMachine.Apply(from, new LiveCommand(kind, by), at);
        Assert.True(transition.IsSuccess, transition.Error?.Detail);
        return transition.Next!;
    }

    /// <summary>A lifecycle that reached <paramref name="status"/> by the usual path.</summary>
    private static LiveLifecycle In(LiveStatus status)
    {
        var l = LiveLifecycle.Scheduled(T0, T0.AddHours(1));
        return status switch
        {
            LiveStatus.Scheduled => l,
            LiveStatus.Ready => Step(l, LiveCommandKind.Ready, T0.AddMinutes(1)),
            LiveStatus.Live => Step(l, LiveCommandKind.Start, T0.AddMinutes(2)),
            LiveStatus.Paused => Step(Step(l, LiveCommandKind.Start, T0.AddMinutes(2)), LiveCommandKind.Pause, T0.AddMinutes(3)),
            _ => Step(Step(l, LiveCommandKind.Start, T0.AddMinutes(2)), LiveCommandKind.End, T0.AddMinutes(4)),
        };
    }
}

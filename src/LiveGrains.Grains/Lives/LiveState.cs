using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Lives;

[GenerateSerializer, Alias("LiveGrains.LiveState")]
public sealed class LiveState
{
    [Id(0)]
    public string Tenant { get; set; } = string.Empty;

    [Id(1)]
    public string RoomId { get; set; } = string.Empty;

    [Id(2)]
    public string? Title { get; set; }

    [Id(3)]
    public LiveLifecycle? Lifecycle { get; set; }

    /// <summary>The highest room intent sequence applied; replays at or below it are no-ops.</summary>
    [Id(4)]
    public long LastAppliedSequence { get; set; }

    [Id(5)]
    public EventOutbox Outbox { get; set; } = new();
}

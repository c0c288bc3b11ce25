using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Events;

/// <summary>
/// Takes events out of a grain's outbox. Must be durable when it returns (the grain then forgets them) and
/// must tolerate the same event twice (same <see cref="ResourceEvent.EventId"/>), since a crash between the
/// hand-off and the grain's next write replays it.
/// </summary>
public interface IResourceEventSink
{
    Task PublishAsync(IReadOnlyList<ResourceEvent> events);
}

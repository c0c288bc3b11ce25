using System.Text.Json;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Events;

/// <summary>
/// The transactional outbox of one resource, kept inside the owning grain's state: an event is recorded in
/// the same storage write as the transition that caused it, with the next gap-free per-resource sequence,
/// and leaves the outbox only after the <see cref="IResourceEventSink"/> has durably taken it.
/// </summary>
[GenerateSerializer, Alias("LiveGrains.EventOutbox")]
public sealed class EventOutbox
{
    [Id(0)]
    public long LastSequence { get; set; }

    [Id(1)]
    public List<ResourceEvent> Pending { get; set; } = [];

    public ResourceEvent Record<T>(string type, string tenant, string resourceType, string resourceId, DateTimeOffset now, T data)
    {
        var @event = new ResourceEvent(
            Ids.NewEventId(now), type, tenant, resourceType, resourceId, ++LastSequence, now,
            JsonSerializer.Serialize(data, LiveGrainsJson.Options));
        Pending.Add(@event);
        return @event;
    }
}

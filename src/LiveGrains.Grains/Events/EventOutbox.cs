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

    /// <summary>Records an event of the grain's own resource, with the outbox's sequence.</summary>
    public ResourceEvent Record<T>(string type, string tenant, string resourceType, string resourceId, DateTimeOffset now, T data) =>
        Record(type, tenant, resourceType, resourceId, ++LastSequence, now, data);

    /// <summary>
    /// Records an event of another resource whose sequence the grain keeps itself (a room's lives: each live's events
    /// have their own gap-free sequence, whichever grain owns the live at the time).
    /// </summary>
    public ResourceEvent Record<T>(string type, string tenant, string resourceType, string resourceId, long sequence, DateTimeOffset now, T data)
    {
        var @event = new ResourceEvent(
            Ids.NewEventId(now), type, tenant, resourceType, resourceId, sequence, now,
            JsonSerializer.Serialize(data, LiveGrainsJson.Options));
        Pending.Add(@event);
        return @event;
    }
}

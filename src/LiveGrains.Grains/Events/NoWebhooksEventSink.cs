using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Events;

/// <summary>The sink used when webhook delivery is not wired: events stay correct in grain state and are dropped here.</summary>
public sealed class NoWebhooksEventSink : IResourceEventSink
{
    public Task PublishAsync(IReadOnlyList<ResourceEvent> events) => Task.CompletedTask;
}

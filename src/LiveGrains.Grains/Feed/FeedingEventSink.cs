using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Feed;

/// <summary>
/// Hands every outbox event to the tenant's event feed (whether or not any webhook endpoint exists), then to the inner
/// sink (webhooks), side by side. Both are durable before the relay drops the events from the outbox; a retry after a failure of
/// either hands them to both again, and both ignore what they already hold. One append per feed shard per hand-off.
/// </summary>
public sealed class FeedingEventSink(IGrainFactory grains, IResourceEventSink inner) : IResourceEventSink
{
    public async Task PublishAsync(IReadOnlyList<ResourceEvent> events)
    {
        // Side by side: each holds the events on its own, and a hand-off waits for the slower of the two, not the sum.
        await Task.WhenAll(events
            .GroupBy(e => (e.Tenant, Shard: EventFeed.ShardOf(e.ResourceType, e.ResourceId)))
            .Select(group => grains.Get<IEventFeedShardGrain>(EventFeed.ShardKey(group.Key.Tenant, group.Key.Shard)).AppendAsync([.. group]))
            .Append(inner.PublishAsync(events)));
    }
}

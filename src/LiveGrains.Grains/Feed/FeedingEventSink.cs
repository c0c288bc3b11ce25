using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Feed;

/// <summary>
/// Hands every outbox event to the tenant's event feed (whether or not any webhook endpoint exists), then to the inner
/// sink (webhooks), side by side. Both are durable before the relay drops the events from the outbox; a retry after a failure of
/// either hands them to both again, and both ignore what they already hold. The silo's appends are batched per feed
/// shard (<see cref="BatchedCalls{TItem, TResult}"/>): a shard orders a resource's events as they arrive, and each
/// relay hands over its resource's events in order, one hand-off at a time.
/// </summary>
public sealed class FeedingEventSink(IGrainFactory grains, IResourceEventSink inner) : IResourceEventSink
{
    private readonly BatchedCalls<ResourceEvent, bool> _appends = new(async (shard, events) =>
    {
        await grains.Get<IEventFeedShardGrain>(shard).AppendAsync([.. events]);
        return true;
    });

    public async Task PublishAsync(IReadOnlyList<ResourceEvent> events)
    {
        // Side by side: each holds the events on its own, and a hand-off waits for the slower of the two, not the sum.
        await Task.WhenAll(events
            .GroupBy(e => EventFeed.ShardKey(e.Tenant, EventFeed.ShardOf(e.ResourceType, e.ResourceId)))
            .Select(group => _appends.CallAsync(group.Key, [.. group]))
            .Append(inner.PublishAsync(events)));
    }
}

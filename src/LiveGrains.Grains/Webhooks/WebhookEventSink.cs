using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Webhooks;

/// <summary>
/// Hands a resource's outbox events to that resource's webhook log: one grain call, one storage write (none
/// when no endpoint wants them). Durable when it returns; a replay of the same events is ignored by sequence.
/// </summary>
public sealed class WebhookEventSink(IGrainFactory grains) : IResourceEventSink
{
    public async Task PublishAsync(IReadOnlyList<ResourceEvent> events)
    {
        foreach (var group in events.GroupBy(e => (e.Tenant, e.ResourceType, e.ResourceId)))
        {
            var key = TenantKey.Compose(group.Key.Tenant, group.Key.ResourceType + ":" + group.Key.ResourceId);
            await grains.GetGrain<IResourceEventLogGrain>(key).AppendAsync([.. group]);
        }
    }
}

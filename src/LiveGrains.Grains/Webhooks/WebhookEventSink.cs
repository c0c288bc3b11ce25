using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Webhooks;

/// <summary>
/// Hands a resource's outbox events to that resource's webhook log, with the tenant's endpoints as read here: one
/// grain call, one storage write (none when no endpoint wants them). Durable when it returns; a replay of the same
/// events is ignored by sequence.
/// </summary>
public sealed class WebhookEventSink(IGrainFactory grains) : IResourceEventSink
{
    public async Task PublishAsync(IReadOnlyList<ResourceEvent> events)
    {
        foreach (var tenant in events.GroupBy(e => e.Tenant))
        {
            // The registry read is interleaved and in memory. When no endpoint of the tenant wants any of these
            // events, the log grain would drop them too: skip its activation (a storage read) on the hot path.
            var targets = await grains.Get<IWebhookRegistryGrain>(tenant.Key).GetTargetsAsync();
            foreach (var group in tenant.GroupBy(e => (e.ResourceType, e.ResourceId)))
            {
                if (!group.Any(e => targets.Any(t => t.Wants(e.Type))))
                {
                    continue;
                }

                var key = TenantKey.Compose(tenant.Key, group.Key.ResourceType + ":" + group.Key.ResourceId);
                await grains.Get<IResourceEventLogGrain>(key).AppendAsync([.. group], targets);
            }
        }
    }
}

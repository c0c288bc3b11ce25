using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;

namespace LiveGrains.Grains.Webhooks;

/// <summary>
/// Hands a resource's outbox events to that resource's webhook log, with the tenant's endpoints as read here: one
/// grain call, one storage write (none when no endpoint wants them). Durable when it returns; a replay of the same
/// events is ignored by sequence. The registry reads of the silo's hand-offs are batched per tenant
/// (<see cref="BatchedCalls{TItem, TResult}"/>): each hand-off sees the endpoints as of a read that started after it asked.
/// </summary>
public sealed class WebhookEventSink(IGrainFactory grains) : IResourceEventSink
{
    private readonly BatchedCalls<bool, IReadOnlyList<WebhookTarget>> _targets = new(
        (tenant, _) => grains.Get<IWebhookRegistryGrain>(tenant).GetTargetsAsync());

    public async Task PublishAsync(IReadOnlyList<ResourceEvent> events)
    {
        foreach (var tenant in events.GroupBy(e => e.Tenant))
        {
            // The registry read is interleaved and in memory. When no endpoint of the tenant wants any of these
            // events, the log grain would drop them too: skip its activation (a storage read) on the hot path.
            var targets = await _targets.CallAsync(tenant.Key, []);
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

using System.Globalization;
using System.Text.Json;
using LiveGrains.Abstractions;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Webhooks;

[GenerateSerializer, Alias("LiveGrains.WebhookDeliveryLogEntry")]
public sealed class WebhookDeliveryLogEntry
{
    [Id(0)] public long Position { get; set; }
    [Id(1)] public WebhookDeliveryRecord Record { get; set; } = null!;
}

[GenerateSerializer, Alias("LiveGrains.WebhookDeliveryLogState")]
public sealed class WebhookDeliveryLogState
{
    [Id(0)] public long LastPosition { get; set; }
    [Id(1)] public List<WebhookDeliveryLogEntry> Entries { get; set; } = [];
}

/// <summary>
/// The latest outcome per event of one endpoint, newest first, bounded. Observability, not the source of
/// truth (the resource logs are): it is written at most once a second, so a crash may lose the last second.
/// </summary>
public sealed class WebhookDeliveryLogGrain(
    [PersistentState("webhook-deliveries", LiveGrainsStorage.State)] IPersistentState<WebhookDeliveryLogState> state,
    WebhookSender sender,
    IOptions<WebhookOptions> options,
    LiveGrainsClock clock) : Grain, IWebhookDeliveryLogGrain
{
    public const string TestEventType = "webhook.test";

    private readonly Dictionary<string, WebhookDeliveryLogEntry> _byEventId = new(StringComparer.Ordinal);
    private IGrainTimer? _flush;
    private bool _dirty;

    private (string Tenant, string WebhookId) Key => TenantKey.Split(this.GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in state.State.Entries)
        {
            _byEventId[entry.Record.Event.EventId] = entry;
        }

        _flush = this.RegisterGrainTimer(static (grain, _) => grain.FlushAsync(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => FlushAsync();

    public Task RecordAsync(IReadOnlyList<WebhookDeliveryRecord> records)
    {
        foreach (var record in records)
        {
            Upsert(record);
        }

        return Task.CompletedTask;
    }

    public async Task<Result<WebhookDeliveryPage>> ListAsync(int limit, string? cursor)
    {
        if (await TargetAsync() is null)
        {
            return DomainError.NotFound("Webhook");
        }

        long? before = null;
        if (cursor is not null)
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
            {
                return new DomainError(DomainErrorCode.ValidationFailed, "Not a cursor from this list.", "cursor");
            }

            before = position;
        }

        var page = state.State.Entries
            .Where(e => before is null || e.Position < before)
            .OrderByDescending(e => e.Position)
            .Take(limit + 1)
            .ToList();
        var next = page.Count > limit ? page[limit - 1].Position.ToString(CultureInfo.InvariantCulture) : null;
        return new WebhookDeliveryPage([.. page.Take(limit).Select(e => e.Record.Delivery)], next);
    }

    public async Task<Result<WebhookDeliveryDto>> TestAsync()
    {
        if (await TargetAsync() is not { } target)
        {
            return DomainError.NotFound("Webhook");
        }

        var now = clock.UtcNow;
        var data = target.Format == WebhookFormat.Gcore
            ? Compat.GcoreWebhookMessages.TestMessage(target.WebhookId)
            : JsonSerializer.Serialize(new { WebhookId = target.WebhookId, Message = "This is a test event from LiveGrains." }, LiveGrainsJson.Options);
        var @event = new ResourceEvent(Ids.NewEventId(now), TestEventType, Key.Tenant, "webhook", target.WebhookId, 0, now, data);
        return await SendNowAsync(target, @event, attempts: 0);
    }

    public async Task<Result<WebhookDeliveryDto>> RedeliverAsync(string eventId)
    {
        if (await TargetAsync() is not { } target)
        {
            return DomainError.NotFound("Webhook");
        }

        if (!_byEventId.TryGetValue(eventId, out var entry))
        {
            return DomainError.NotFound("Delivery");
        }

        var record = entry.Record;
        if (record.Delivery.Status == DeliveryStatus.Delivered || record.Event.Type == TestEventType)
        {
            return await SendNowAsync(target, record.Event, record.Delivery.Attempts);
        }

        // Still queued: retry its queue now rather than jump the resource's order.
        var @event = record.Event;
        await GrainFactory.Get<IResourceEventLogGrain>(TenantKey.Compose(Key.Tenant, @event.ResourceType + ":" + @event.ResourceId))
            .RetryNowAsync(target.WebhookId);
        return record.Delivery;
    }

    public async Task ClearAsync()
    {
        _byEventId.Clear();
        _dirty = false;
        await state.ClearStateAsync();
    }

    private async Task<WebhookDeliveryDto> SendNowAsync(WebhookTarget target, ResourceEvent @event, int attempts)
    {
        var attempt = await sender.SendAsync(target, @event);
        var now = clock.UtcNow;
        var record = ResourceEventLogGrain.Record(
            @event, attempt.Success ? DeliveryStatus.Delivered : DeliveryStatus.Retrying, attempts + 1, attempt, null, attempt.Success ? now : null, now);
        if (!attempt.Success)
        {
            // A manual send is not retried: show it as failed once, not as waiting for a retry that won't come.
            record = record with { Delivery = record.Delivery with { Status = DeliveryStatus.Failing } };
        }

        Upsert(record);
        return record.Delivery;
    }

    private async Task<WebhookTarget?> TargetAsync()
    {
        var (tenant, webhookId) = Key;
        var targets = await GrainFactory.Get<IWebhookRegistryGrain>(tenant).GetTargetsAsync();
        return targets.FirstOrDefault(t => t.WebhookId == webhookId);
    }

    private void Upsert(WebhookDeliveryRecord record)
    {
        if (_byEventId.TryGetValue(record.Event.EventId, out var entry))
        {
            // A "pending" snapshot must not overwrite a newer outcome.
            if (record.Delivery.Status != DeliveryStatus.Pending || entry.Record.Delivery.Status == DeliveryStatus.Pending)
            {
                entry.Record = record;
            }
        }
        else
        {
            entry = new WebhookDeliveryLogEntry { Position = ++state.State.LastPosition, Record = record };
            state.State.Entries.Add(entry);
            _byEventId[record.Event.EventId] = entry;
            Trim();
        }

        _dirty = true;
    }

    private void Trim()
    {
        var entries = state.State.Entries;
        var excess = entries.Count - options.Value.DeliveryLogSize;
        if (excess <= 0)
        {
            return;
        }

        // Forget delivered events first, oldest first; undelivered ones only if nothing else is left.
        var victims = entries.Where(e => e.Record.Delivery.Status == DeliveryStatus.Delivered).Take(excess).ToList();
        if (victims.Count < excess)
        {
            victims.AddRange(entries.Except(victims).Take(excess - victims.Count));
        }

        foreach (var victim in victims)
        {
            _byEventId.Remove(victim.Record.Event.EventId);
        }

        var set = victims.ToHashSet();
        entries.RemoveAll(set.Contains);
    }

    private async Task FlushAsync()
    {
        if (_dirty)
        {
            _dirty = false;
            await state.WriteStateAsync();
        }
    }
}

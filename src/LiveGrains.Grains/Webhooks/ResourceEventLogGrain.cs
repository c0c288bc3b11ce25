using LiveGrains.Abstractions;
using LiveGrains.Grains.Compat;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Webhooks;

[GenerateSerializer, Alias("LiveGrains.EndpointQueueState")]
public sealed class EndpointQueueState
{
    /// <summary>Undelivered events in sequence order; the head is the one being attempted.</summary>
    [Id(0)] public List<ResourceEvent> Events { get; set; } = [];
    [Id(1)] public int Attempts { get; set; }
    [Id(2)] public DateTimeOffset? FirstFailureAt { get; set; }
    [Id(3)] public DateTimeOffset NextAttemptAt { get; set; }
    [Id(4)] public int? LastStatusCode { get; set; }
    [Id(5)] public string? LastError { get; set; }
    [Id(6)] public bool Failing { get; set; }
}

[GenerateSerializer, Alias("LiveGrains.ResourceEventLogState")]
public sealed class ResourceEventLogState
{
    /// <summary>The highest sequence taken from the resource's outbox: a replayed hand-off is ignored.</summary>
    [Id(0)] public long LastSequence { get; set; }
    [Id(1)] public Dictionary<string, EndpointQueueState> Queues { get; set; } = new(StringComparer.Ordinal);

    /// <summary>For a stream's log: whether it receives media after its last event (Gcore's <c>live</c> in recording webhooks).</summary>
    [Id(90)] public bool? GcoreStreamLive { get; set; }
}

/// <summary>
/// One resource's undelivered events, one ordered queue per endpoint: event n+1 goes to an endpoint only
/// after n was acknowledged, while other resources (other grains) and other endpoints (parallel queues)
/// proceed. Appends are durable before they return; delivery runs in an interleaved timer so the next
/// append (the API's hot path) never waits for an HTTP round trip; a reminder resumes delivery after a crash.
/// Retry times (backoff, the retry horizon) are on <see cref="LiveGrainsClock"/>, and so is the timer that wakes the
/// pump when the next attempt is due: a test's fake clock reaches a backoff by advancing, without waiting it out.
/// </summary>
public sealed class ResourceEventLogGrain(
    [PersistentState("webhook-log", LiveGrainsStorage.State)] IPersistentState<ResourceEventLogState> state,
    WebhookSender sender,
    IOptions<WebhookOptions> options,
    LiveGrainsClock clock,
    ILogger<ResourceEventLogGrain> logger) : Grain, IResourceEventLogGrain, IRemindable
{
    private const string ReminderName = "webhook-delivery";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long an acknowledgment may stay unsaved (the next append saves it sooner): a crash within it re-sends
    /// those events with the same ids, which at-least-once allows; a busy resource's acks ride on its appends.
    /// </summary>
    internal static readonly TimeSpan AckSaveDelay = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private IGrainTimer? _timer;
    private ITimer? _wake;
    private IGrainTimer? _saveTimer;
    private bool _unsaved;
    private bool _saveScheduled;
    private bool _pumping;
    private bool _again;
    private bool _reminderRegistered;
    private long _countedBacklog;

    private string Tenant => TenantKey.Split(this.GetPrimaryKeyString()).Tenant;

    private DateTimeOffset Now => clock.UtcNow;

    private Dictionary<string, EndpointQueueState> Queues => state.State.Queues;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _timer = this.RegisterGrainTimer(
            static (grain, _) => grain.PumpAsync(),
            this,
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });

        // The next attempt falls due on the clock's own timer, which only wakes the pump (Wake). No async locals of the
        // turn that arms it ride along.
        using (ExecutionContext.SuppressFlow())
        {
            _wake = clock.Provider.CreateTimer(static grain => ((ResourceEventLogGrain)grain!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _saveTimer = this.RegisterGrainTimer(
            static (grain, _) => grain.SaveUnsavedAsync(),
            this,
            new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
        _reminderRegistered = Backlog() > 0; // a backlog found on activation was written with its reminder
        AdjustBacklogMetric();
        if (Backlog() > 0)
        {
            Kick();
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A callback already running may still queue its Wake: it finds no timer and does nothing.
        _wake?.Dispose();
        _wake = null;
        if (_unsaved)
        {
            try
            {
                await SaveAsync();
            }
            catch (Exception ex)
            {
                // Still safe: the unsaved changes are acknowledgments and retry bookkeeping; events are re-sent.
                logger.LogWarning(ex, "Webhook log {Key}: saving acknowledgments on deactivation failed", this.GetPrimaryKeyString());
            }
        }

        WebhookMetrics.Backlog.Add(-_countedBacklog);
        _countedBacklog = 0;
        if (_reminderRegistered && Backlog() == 0 && reason.ReasonCode == DeactivationReasonCode.ActivationIdle)
        {
            await UnregisterReminderAsync();
        }
    }

    public async Task AppendAsync(IReadOnlyList<ResourceEvent> events, IReadOnlyList<WebhookTarget> targets)
    {
        var fresh = events.Where(e => e.Sequence > state.State.LastSequence).OrderBy(e => e.Sequence).ToList();
        if (fresh.Count == 0)
        {
            // A replayed hand-off: durable once no failed write is pending (the first hand-off's write may have
            // failed after these events were queued in memory). Make sure its delivery can resume after a crash.
            if (_unsaved)
            {
                await SaveAsync();
            }

            if (Backlog() > 0)
            {
                await EnsureReminderAsync();
            }

            return;
        }

        var gcore = await GcoreMessagesAsync(fresh, targets);
        var queued = 0;
        var now = Now;
        foreach (var target in targets)
        {
            foreach (var original in fresh)
            {
                if (!target.Wants(original.Type))
                {
                    continue;
                }

                // A Gcore-format endpoint is queued the event with its Gcore body, translated once, here, with the ids of
                // now (a broadcast deleted later still goes out under its number); none means Gcore has no such webhook.
                var bodies = target.Format == WebhookFormat.Gcore ? gcore.GetValueOrDefault(original.EventId) ?? [] : [original];
                if (bodies.Length == 0)
                {
                    continue;
                }

                if (!Queues.TryGetValue(target.WebhookId, out var queue))
                {
                    Queues[target.WebhookId] = queue = new EndpointQueueState { NextAttemptAt = now };
                }

                if (queue.Events.Count == 0)
                {
                    queue.NextAttemptAt = now;
                }

                queue.Events.AddRange(bodies);
                queued += bodies.Length;
            }
        }

        state.State.LastSequence = fresh[^1].Sequence;
        if (queued == 0)
        {
            // No endpoint wants these events: nothing to make durable (a replay would be filtered the same way).
            return;
        }

        // The reminder is written next to the state (in parallel), so a crash right after this call still resumes.
        await Task.WhenAll(SaveAsync(), EnsureReminderAsync());
        AdjustBacklogMetric();
        Kick();
    }

    /// <summary>
    /// The Gcore bodies of <paramref name="fresh"/> (by event id; empty where Gcore has none) when a Gcore-format endpoint
    /// wants them, as events whose <see cref="ResourceEvent.DataJson"/> is the whole body (the sender sends it verbatim).
    /// </summary>
    private async Task<Dictionary<string, ResourceEvent[]>> GcoreMessagesAsync(List<ResourceEvent> fresh, IReadOnlyList<WebhookTarget> targets)
    {
        var messages = new Dictionary<string, ResourceEvent[]>(StringComparer.Ordinal);
        var gcoreTargets = targets.Where(t => t.Format == WebhookFormat.Gcore).ToList();
        var translator = gcoreTargets.Count > 0 ? new GcoreWebhookMessages(GrainFactory, Tenant) : null;
        var live = state.State.GcoreStreamLive;
        foreach (var @event in fresh)
        {
            live = GcoreWebhookMessages.StreamLiveAfter(@event.Type, live);
            if (translator is not null && gcoreTargets.Any(t => t.Wants(@event.Type)))
            {
                // A second body of one event (a video's "viewable" before its "ready") is a delivery of its own: its id
                // (the webhook-id a receiver deduplicates by) is the event's with the body's position.
                var bodies = await translator.MessagesAsync(@event, live);
                messages[@event.EventId] = [.. bodies.Select((body, i) =>
                    @event with { EventId = i == bodies.Count - 1 ? @event.EventId : $"{@event.EventId}.{i + 1}", DataJson = body })];
            }
        }

        // Assigned only once every translation succeeded: a replayed hand-off starts from the same value.
        state.State.GcoreStreamLive = live;
        return messages;
    }

    public Task RetryNowAsync(string webhookId)
    {
        if (Queues.TryGetValue(webhookId, out var queue) && queue.Events.Count > 0)
        {
            queue.NextAttemptAt = Now;
            queue.FirstFailureAt = null;
            Kick();
        }

        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        _reminderRegistered = true;
        if (Backlog() == 0)
        {
            return UnregisterReminderAsync();
        }

        // Disabled endpoints and slow (failing) retries are re-examined here.
        Kick();
        return Task.CompletedTask;
    }

    /// <summary>The clock's timer fired (on the thread pool): kick the pump on this activation's scheduler.</summary>
    private void Wake() => GrainContext.Scheduler.QueueAction(() =>
    {
        if (_wake is not null)
        {
            Kick();
        }
    });

    private void Kick()
    {
        _again = true;
        if (!_pumping)
        {
            _timer?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task PumpAsync()
    {
        if (_pumping)
        {
            _again = true;
            return;
        }

        _pumping = true;
        try
        {
            do
            {
                _again = false;
                await RoundsAsync();
            }
            while (_again);

            ScheduleNext();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Webhook delivery round of {Key} failed; retrying", this.GetPrimaryKeyString());
            _timer?.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        }
        finally
        {
            _pumping = false;
        }
    }

    private async Task RoundsAsync()
    {
        while (true)
        {
            var now = Now;
            var due = Queues.Where(q => q.Value.Events.Count > 0 && q.Value.NextAttemptAt <= now).ToList();
            if (due.Count == 0)
            {
                return;
            }

            var targets = (await GrainFactory.Get<IWebhookRegistryGrain>(Tenant).GetTargetsAsync())
                .ToDictionary(t => t.WebhookId, StringComparer.Ordinal);
            var work = new List<Task>(due.Count);
            var changed = false;
            foreach (var (webhookId, queue) in due)
            {
                if (!targets.TryGetValue(webhookId, out var target))
                {
                    Queues.Remove(webhookId); // the endpoint was deleted: its queue goes with it
                    changed = true;
                    continue;
                }

                if (!target.Enabled)
                {
                    queue.NextAttemptAt = now + ReminderPeriod; // re-examined when the reminder ticks
                    continue;
                }

                work.Add(DrainAsync(target, queue));
                changed = true;
            }

            await Task.WhenAll(work);
            if (changed)
            {
                // Acknowledgments are saved behind (within AckSaveDelay, or with the next append): a crash before
                // that re-sends the acknowledged events with the same webhook-id, which at-least-once allows.
                ScheduleSave();
            }

            AdjustBacklogMetric();
        }
    }

    /// <summary>Sends the queue's events in order until one fails or the queue is empty.</summary>
    private async Task DrainAsync(WebhookTarget target, EndpointQueueState queue)
    {
        var records = new List<WebhookDeliveryRecord>();
        var wasFailing = queue.Failing;
        while (queue.Events.Count > 0)
        {
            var head = queue.Events[0];
            var attempt = await sender.SendAsync(target, head);
            var now = Now;
            queue.Attempts++;
            queue.LastStatusCode = attempt.StatusCode;
            queue.LastError = attempt.Error;
            if (attempt.Success)
            {
                if (queue.Events.Count > 0 && queue.Events[0].EventId == head.EventId)
                {
                    queue.Events.RemoveAt(0);
                }

                WebhookMetrics.Lag.Record((now - head.Timestamp).TotalMilliseconds);
                records.Add(Record(head, DeliveryStatus.Delivered, queue.Attempts, attempt, null, now, now));
                queue.Attempts = 0;
                queue.FirstFailureAt = null;
                queue.Failing = false;
                continue;
            }

            queue.FirstFailureAt ??= now;
            var past = now - queue.FirstFailureAt.Value >= options.Value.RetryHorizon;
            queue.Failing = past;
            queue.NextAttemptAt = now + (past ? TimeSpan.FromMilliseconds(options.Value.MaxBackoffMilliseconds) : options.Value.Backoff(queue.Attempts));
            records.Add(Record(head, past ? DeliveryStatus.Failing : DeliveryStatus.Retrying, queue.Attempts, attempt, queue.NextAttemptAt, null, now));
            if (queue.Attempts == 1)
            {
                // Show what waits behind the failing head (once per head, bounded).
                records.AddRange(queue.Events.Skip(1).Take(100).Select(e => Record(e, DeliveryStatus.Pending, 0, null, null, null, now)));
            }

            break;
        }

        if (wasFailing != queue.Failing)
        {
            await GrainFactory.Get<IWebhookRegistryGrain>(Tenant).SetFailingAsync(target.WebhookId, queue.Failing);
        }

        if (records.Count > 0)
        {
            await GrainFactory.Get<IWebhookDeliveryLogGrain>(TenantKey.Compose(Tenant, target.WebhookId)).RecordAsync(records);
        }
    }

    private void ScheduleNext()
    {
        var next = Queues.Values.Where(q => q.Events.Count > 0).Select(q => (DateTimeOffset?)q.NextAttemptAt).Min();
        if (next is { } at)
        {
            var delay = at - Now;
            _wake?.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void ScheduleSave()
    {
        _unsaved = true;
        if (!_saveScheduled)
        {
            _saveScheduled = true;
            _saveTimer?.Change(AckSaveDelay, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task SaveUnsavedAsync()
    {
        _saveScheduled = false;
        if (!_unsaved)
        {
            return;
        }

        try
        {
            await SaveAsync();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Webhook log {Key}: saving acknowledgments failed; retrying", this.GetPrimaryKeyString());
            ScheduleSave();
        }
    }

    /// <summary>Writes everything in memory: queued events and acknowledgments alike.</summary>
    private async Task SaveAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            _unsaved = false;
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                // Memory is ahead of storage now, whatever this write carried.
                _unsaved = true;
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task EnsureReminderAsync()
    {
        if (!_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
            _reminderRegistered = true;
        }
    }

    private async Task UnregisterReminderAsync()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        _reminderRegistered = false;
    }

    private long Backlog() => Queues.Values.Sum(q => (long)q.Events.Count);

    private void AdjustBacklogMetric()
    {
        var backlog = Backlog();
        WebhookMetrics.Backlog.Add(backlog - _countedBacklog);
        _countedBacklog = backlog;
    }

    internal static WebhookDeliveryRecord Record(
        ResourceEvent e, DeliveryStatus status, int attempts, WebhookAttempt? attempt, DateTimeOffset? next, DateTimeOffset? deliveredAt, DateTimeOffset now) =>
        new(e, new WebhookDeliveryDto(
            e.EventId, e.Type, e.ResourceType, e.ResourceId, e.Sequence, status, attempts, attempt?.StatusCode,
            attempt?.Error is { } error ? WebhookSender.Truncate(error, WebhookSender.MaxErrorLength) : null,
            attempt?.ResponseBody, next, deliveredAt, now));
}

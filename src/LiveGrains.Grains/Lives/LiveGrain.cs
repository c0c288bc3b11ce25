using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Lives;

public sealed class LiveGrain(
    [PersistentState("live", LiveGrainsStorage.State)] IPersistentState<LiveState> state,
    IResourceEventSink events,
    LiveGrainsClock clock,
    IOptions<LiveOptions> options,
    ILogger<LiveGrain> logger) : Grain, ILiveGrain, IRemindable
{
    private OutboxRelay? _relay;
    private DateTimeOffset _confirmedAt = DateTimeOffset.MinValue;

    /// <summary>
    /// False only for a live created in this activation whose stats grain has not pulled it yet: then no stats
    /// grain exists to tell about a transition (a later one pulls the lifecycle when it activates), and ending a
    /// superseded live with no audience costs no stats activation. Unknown after a reactivation, so true.
    /// </summary>
    private bool _statsMayBeActive = true;
    private IGrainTimer? _confirmTimer;

    /// <summary>The last counters the stats grain reported; the duration always comes from the lifecycle.</summary>
    private StatsDto? _stats;

    private OutboxRelay Relay => _relay ??= new OutboxRelay(this, () => state.State.Outbox, events, logger);

    private string LiveId => this.GetPrimaryKeyString();

    private LiveLifecycle? Lifecycle => state.State.Lifecycle;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Relay.Kick();
        UpdateConfirmTimer();
        return Task.CompletedTask;
    }

    public async Task<Result<LiveDto>> GetAsync(string tenant)
    {
        if (!BelongsTo(tenant))
        {
            return DomainError.NotFound("Live");
        }

        await EnsureConfirmedByRoomAsync();
        if (await Stats.GetStatsAsync(tenant) is { IsSuccess: true } stats)
        {
            _stats = stats.Value;
        }

        return Result<LiveDto>.Ok(ToDto());
    }

    public Task<Result<string>> GetRoomKeyAsync(string tenant) =>
        Task.FromResult(BelongsTo(tenant)
            ? Result<string>.Ok(TenantKey.Compose(state.State.Tenant, state.State.RoomId))
            : DomainError.NotFound("Live"));

    public async Task<Result<LiveDto>> ApplyAsync(LiveOperation operation)
    {
        _confirmedAt = clock.UtcNow;
        if (operation.Sequence > 0 && operation.Sequence <= state.State.LastAppliedSequence)
        {
            return Snapshot();
        }

        if (operation.Create is { } create)
        {
            return await CreateAsync(operation, create);
        }

        if (Lifecycle is null || operation.Command is null)
        {
            return DomainError.NotFound("Live");
        }

        var transition = LiveStateMachine.Apply(Lifecycle, operation.Command, operation.At);
        if (!transition.IsSuccess)
        {
            if (operation.Sequence > 0)
            {
                // A decided intent that no longer applies was overtaken by an earlier replay; the room's
                // decision already holds, so acknowledge it rather than wedge the room's pending list.
                logger.LogWarning("Live {LiveId}: intent {Sequence} ({Command}) no longer applies in {Status}", LiveId, operation.Sequence, operation.Command.Kind, Lifecycle.Status);
                state.State.LastAppliedSequence = operation.Sequence;
                await WriteOrReloadAsync();
                return Snapshot();
            }

            return transition.Error!;
        }

        state.State.Lifecycle = transition.Next;
        await CommitAsync(operation.Sequence, transition.EventType!);
        return Snapshot();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == OutboxRelay.ReminderName ? Relay.ReceiveReminderAsync() : Task.CompletedTask;

    public Task<LiveDto?> GetSnapshotAsync() => Task.FromResult(Lifecycle is null ? null : ToDto());

    public Task<LiveStatsSubject?> GetStatsSubjectAsync()
    {
        // The stats grain pulls this when it activates: from now on it must hear about every transition.
        _statsMayBeActive = true;
        return Task.FromResult(Lifecycle is null ? null : StatsSubject());
    }

    private async Task<Result<LiveDto>> CreateAsync(LiveOperation operation, LiveCreation create)
    {
        if (Lifecycle is not null)
        {
            return Snapshot();
        }

        var lifecycle = LiveLifecycle.Scheduled(operation.At, create.ScheduledStartTime);
        var eventType = EventTypes.LiveScheduled;
        if (create.StartNow)
        {
            var started = LiveStateMachine.Apply(lifecycle, new LiveCommand(LiveCommandKind.Start, create.StartedBy), operation.At);
            lifecycle = started.Next!;
            eventType = started.EventType!;
        }

        state.State.Tenant = create.Tenant;
        state.State.RoomId = create.RoomId;
        state.State.Title = create.Title;
        state.State.Lifecycle = lifecycle;
        _statsMayBeActive = false;
        await CommitAsync(operation.Sequence, eventType, created: true);
        return Snapshot();
    }

    /// <summary>
    /// A refused write (storage down, or an ETag conflict with a newer activation) must not leave the change
    /// in memory: the room would see it applied and never retry it. Reload what storage holds and let the
    /// caller (the room) retry the intent.
    /// </summary>
    private async Task WriteOrReloadAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception writeError)
        {
            logger.LogWarning(writeError, "Live {LiveId}: state write failed; reloading it", LiveId);
            try
            {
                await state.ReadStateAsync();
            }
            catch (Exception readError)
            {
                // Memory now holds a change storage never took: drop this activation.
                logger.LogWarning(readError, "Live {LiveId}: reloading state after a failed write failed too; deactivating", LiveId);
                this.DeactivateOnIdle();
            }

            throw;
        }
    }

    private async Task CommitAsync(long sequence, string eventType, bool created = false)
    {
        state.State.LastAppliedSequence = Math.Max(state.State.LastAppliedSequence, sequence);
        var dto = ToDto();
        state.State.Outbox.Record(eventType, state.State.Tenant, "live", LiveId, clock.UtcNow, dto);
        await WriteOrReloadAsync();
        UpdateConfirmTimer();
        if (!created && _statsMayBeActive)
        {
            await PushToStatsAsync();
        }

        await Relay.HandOffAsync();
    }

    /// <summary>
    /// Tells the stats grain about the transition (for the event stream and, on end, to drain and freeze the
    /// stats) after the lifecycle is durable. A new live is not pushed: its stats grain pulls when first used.
    /// </summary>
    private async Task PushToStatsAsync()
    {
        try
        {
            _stats = await Stats.OnLifecycleAsync(StatsSubject());
        }
        catch (Exception ex)
        {
            // The lifecycle is decided; the stats grain pulls it again when it next activates.
            logger.LogWarning(ex, "Live {LiveId}: telling the stats about {Status} failed", LiveId, Lifecycle?.Status);
        }
    }

    private LiveStatsSubject StatsSubject() =>
        new(state.State.Tenant, Lifecycle!.Status, Lifecycle.OnAirBeforeLastResume, Lifecycle.OnAirSince, ToDto());

    private ILiveStatsGrain Stats => GrainFactory.GetGrain<ILiveStatsGrain>(LiveId);

    /// <summary>
    /// A live that believes it is on air asks its room to finish any decided-but-unapplied intent first:
    /// after a crash between the room's write and this live's write, that intent may end this live.
    /// </summary>
    private async Task EnsureConfirmedByRoomAsync()
    {
        if (Lifecycle is not { IsActive: true } || clock.UtcNow - _confirmedAt < options.Value.ConfirmInterval)
        {
            return;
        }

        await Room.ReconcileAsync();
        _confirmedAt = clock.UtcNow;
    }

    /// <summary>While on air, re-confirm on a timer so a live whose room moved on during a crash ends without waiting for a read.</summary>
    private void UpdateConfirmTimer()
    {
        if (Lifecycle is { IsActive: true })
        {
            _confirmTimer ??= this.RegisterGrainTimer(
                static (grain, _) => grain.EnsureConfirmedByRoomAsync(),
                this,
                new GrainTimerCreationOptions(options.Value.ReconcileInterval, options.Value.ReconcileInterval) { KeepAlive = true });
        }
        else
        {
            _confirmTimer?.Dispose();
            _confirmTimer = null;
        }
    }

    private IRoomGrain Room => GrainFactory.GetGrain<IRoomGrain>(TenantKey.Compose(state.State.Tenant, state.State.RoomId));

    private bool BelongsTo(string tenant) =>
        Lifecycle is not null && string.Equals(state.State.Tenant, tenant, StringComparison.Ordinal);

    private Result<LiveDto> Snapshot() => Lifecycle is null ? DomainError.NotFound("Live") : Result<LiveDto>.Ok(ToDto());

    private LiveDto ToDto()
    {
        var l = Lifecycle!;
        var duration = (long)l.OnAir(clock.UtcNow).TotalSeconds;
        return new LiveDto(
            LiveId, state.State.RoomId, state.State.Title, l.Status, l.EndReason, l.CreatedAt, l.ScheduledStartTime,
            l.ReadyAt, l.StartedAt, l.PausedAt, l.EndedAt, duration, l.StartedBy, l.EndedBy,
            (_stats ?? new StatsDto(0, 0, null, 0, 0, 0, 0, 0)) with { DurationSeconds = duration });
    }
}

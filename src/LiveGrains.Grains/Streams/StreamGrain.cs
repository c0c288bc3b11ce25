using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Streams;

/// <summary>
/// One ingest endpoint. Media-server callbacks move it idle -> connected -> reconnecting -> connected|idle; the
/// room decides the lives (go live or join on publish, pause on disconnect, end with reconnect_timeout when the
/// window passes). The window is kept twice: a grain timer fires it on time while this activation lives, and
/// a durable reminder fires it on another silo when this one dies. Both land in the same idempotent check.
/// </summary>
public sealed class StreamGrain(
    [PersistentState("stream", LiveGrainsStorage.State)] IPersistentState<StreamState> state,
    IResourceEventSink events,
    LiveGrainsClock clock,
    IOptions<StreamOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<StreamGrain> logger) : Grain, IStreamGrain, IRemindable
{
    public const string WindowReminderName = "reconnect-window";
    public const int DefaultReconnectWindowSeconds = 60;

    private OutboxRelay? _relay;
    private IGrainTimer? _windowTimer;

    private OutboxRelay Relay => _relay ??= new OutboxRelay(this, () => S.Outbox, events, logger);

    private string StreamId => this.GetPrimaryKeyString();

    private StreamState S => state.State;

    private IRoomGrain Room => GrainFactory.GetGrain<IRoomGrain>(TenantKey.Compose(S.Tenant, S.RoomId));

    private string Actor => "stream:" + StreamId;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Relay.Kick();
        if (S.Status == StreamStatus.Reconnecting)
        {
            ArmWindowTimer();
        }

        return Task.CompletedTask;
    }

    public async Task<Result<StreamWithKey>> CreateAsync(string tenant, CreateStreamCommand command)
    {
        if (S.Exists)
        {
            return new DomainError(DomainErrorCode.Unavailable, "Stream id collision; retry.");
        }

        var room = await GrainFactory.GetGrain<IRoomGrain>(TenantKey.Compose(tenant, command.RoomId)).GetAsync();
        if (!room.IsSuccess)
        {
            return room.Error!.Code == DomainErrorCode.NotFound
                ? new DomainError(DomainErrorCode.ValidationFailed, $"Room '{command.RoomId}' does not exist.", "room_id")
                : room.Error!;
        }

        var now = clock.UtcNow;

        // In the tenant's streams index before the stream is stored, so a created stream is never missing from the
        // listing (an entry whose create then fails is skipped by the listing).
        await GrainFactory.ResourceShard(tenant, IndexShards.Streams, command.RoomId).UpsertAsync(new ResourceIndexEntry(StreamId, command.RoomId, now));
        var key = StreamKeys.New(StreamId);
        S.Exists = true;
        S.Tenant = tenant;
        S.RoomId = command.RoomId;
        S.Enabled = true;
        S.KeyHash = StreamKeys.Hash(StreamId, key);
        S.KeyVersion = 1;
        S.ReconnectWindowSeconds = command.ReconnectWindowSeconds;
        S.Recording = command.Recording;
        S.CreatedAt = now;
        S.UpdatedAt = now;
        await state.WriteOrReloadAsync(this, logger);
        return new StreamWithKey(ToDto(), key);
    }

    public Task<Result<StreamDto>> GetAsync(string tenant) =>
        Task.FromResult(BelongsTo(tenant) ? Result<StreamDto>.Ok(ToDto()) : NotFound());

    public async Task<Result<StreamDto>> SetEnabledAsync(string tenant, bool enabled)
    {
        if (!BelongsTo(tenant))
        {
            return NotFound();
        }

        if (S.Enabled == enabled)
        {
            return ToDto();
        }

        var now = clock.UtcNow;
        var liveId = S.LiveId;
        if (!enabled && S.Status != StreamStatus.Idle && liveId is not null)
        {
            // Documented choice: disabling cuts the broadcast for good (the key cannot reconnect), so the live
            // ends now rather than waiting out a window that cannot be met. Ended before our write: a crash
            // in between leaves the stream connected, and the next disable or window retries harmlessly.
            await EndLiveAsync(liveId, EndReason.Ended, "stream_disabled");
        }

        S.Enabled = enabled;
        S.UpdatedAt = now;
        Record(enabled ? EventTypes.StreamEnabled : EventTypes.StreamDisabled, now);
        var wasReconnecting = S.Status == StreamStatus.Reconnecting;
        if (!enabled && S.Status != StreamStatus.Idle)
        {
            BecomeIdle(now);
        }

        await CommitAsync();
        if (wasReconnecting && !enabled)
        {
            await ForgetWindowAsync();
        }

        return ToDto();
    }

    public async Task<Result<StreamWithKey>> RotateKeyAsync(string tenant)
    {
        if (!BelongsTo(tenant))
        {
            return Result<StreamWithKey>.Fail(DomainError.NotFound("Stream"));
        }

        var now = clock.UtcNow;
        var key = StreamKeys.New(StreamId);
        S.KeyHash = StreamKeys.Hash(StreamId, key);
        S.KeyVersion++;
        S.UpdatedAt = now;
        Record(EventTypes.StreamKeyRotated, now);
        await CommitAsync();
        logger.LogInformation("Stream {StreamId}: key rotated to version {KeyVersion}", StreamId, S.KeyVersion);
        return new StreamWithKey(ToDto(), key);
    }

    public async Task<Result<StreamDto>> StartRecordingAsync(string tenant)
    {
        if (!BelongsTo(tenant))
        {
            return NotFound();
        }

        if (S.RecordingActive)
        {
            return ToDto();
        }

        if (S.Status == StreamStatus.Idle)
        {
            return new DomainError(DomainErrorCode.InvalidTransition, "The stream is not connected; recording starts on a stream that receives media.");
        }

        var now = clock.UtcNow;
        StartRecording(now, RecordingTrigger.Manual);
        S.UpdatedAt = now;
        await CommitAsync();
        return ToDto();
    }

    public async Task<Result<StreamDto>> StopRecordingAsync(string tenant)
    {
        if (!BelongsTo(tenant))
        {
            return NotFound();
        }

        if (!S.RecordingActive)
        {
            return ToDto();
        }

        var now = clock.UtcNow;
        StopRecording(now);
        S.UpdatedAt = now;
        await CommitAsync();
        return ToDto();
    }

    public async Task<IngestDecision> PublishAsync(IngestCallback callback)
    {
        if (Refuse(callback) is { } refused)
        {
            return refused;
        }

        var publisher = PublisherOf(callback);
        if (S.Status == StreamStatus.Connected)
        {
            if (publisher is null || publisher == S.PublisherId)
            {
                return new IngestDecision(IngestOutcome.Allowed, S.LiveId);
            }

            var room = await Room.GetAsync();
            if (!room.IsSuccess)
            {
                return new IngestDecision(IngestOutcome.RoomUnavailable);
            }

            if (room.Value!.TakeoverPolicy == TakeoverPolicy.Reject)
            {
                logger.LogInformation("Stream {StreamId}: second publisher {Publisher} refused, room policy is reject", StreamId, publisher);
                return new IngestDecision(IngestOutcome.Busy, S.LiveId);
            }

            logger.LogInformation("Stream {StreamId}: publisher {Publisher} takes over from {Previous}", StreamId, publisher, S.PublisherId);
        }

        var live = await Room.GoLiveForIngestAsync(new GoLiveCommand(null, Actor));
        if (!live.IsSuccess)
        {
            logger.LogWarning("Stream {StreamId}: room {RoomId} refused the ingest go-live: {Error}", StreamId, S.RoomId, live.Error);
            return new IngestDecision(IngestOutcome.RoomUnavailable);
        }

        var now = clock.UtcNow;
        var wasReconnecting = S.Status == StreamStatus.Reconnecting;
        if (S.LiveId is { } previous && previous != live.Value!.Live.LiveId && S.RecordingActive)
        {
            StopRecording(now);
        }

        S.Status = StreamStatus.Connected;
        S.LiveId = live.Value!.Live.LiveId;
        S.PublisherId = publisher;
        S.ConnectedAt = now;
        S.ReconnectDeadline = null;
        S.UpdatedAt = now;
        Record(EventTypes.StreamConnected, now);
        if (S.Recording == RecordingMode.Auto && !S.RecordingActive)
        {
            StartRecording(now, RecordingTrigger.Auto);
        }

        await CommitAsync();
        if (wasReconnecting)
        {
            await ForgetWindowAsync();
        }

        await TellRoomConnectionAsync(S.LiveId, connected: true);

        logger.LogInformation("Stream {StreamId}: connected ({Server} {Publisher} from {Address}), live {LiveId} {How}",
            StreamId, callback.Server, publisher, callback.RemoteAddress, S.LiveId, live.Value.Created ? "started" : wasReconnecting ? "resumed" : "joined");
        return new IngestDecision(IngestOutcome.Allowed, S.LiveId);
    }

    public Task<IngestDecision> UpdateAsync(IngestCallback callback)
    {
        if (Refuse(callback) is { } refused)
        {
            return Task.FromResult(refused);
        }

        if (S.Status == StreamStatus.Idle)
        {
            return Task.FromResult(new IngestDecision(IngestOutcome.NotPublishing));
        }

        var publisher = PublisherOf(callback);
        if (publisher is not null && S.PublisherId is not null && publisher != S.PublisherId)
        {
            // A publisher that was taken over: refusing its update is how nginx-rtmp drops it.
            return Task.FromResult(new IngestDecision(IngestOutcome.Busy, S.LiveId));
        }

        return Task.FromResult(new IngestDecision(IngestOutcome.Allowed, S.LiveId));
    }

    public async Task<IngestDecision> UnpublishAsync(IngestCallback callback)
    {
        // No key check: the publisher of a key rotated meanwhile must still be able to report its end.
        // Only the publisher that holds the stream may end it.
        if (!S.Exists || S.Status != StreamStatus.Connected)
        {
            return new IngestDecision(IngestOutcome.Ignored);
        }

        var publisher = PublisherOf(callback);
        if (publisher is not null && S.PublisherId is not null && publisher != S.PublisherId)
        {
            return new IngestDecision(IngestOutcome.Ignored, S.LiveId);
        }

        var window = S.ReconnectWindowSeconds;
        if (window is null)
        {
            var room = await Room.GetAsync();
            window = room.IsSuccess ? room.Value!.ReconnectWindowSeconds : DefaultReconnectWindowSeconds;
        }

        var now = clock.UtcNow;
        var liveId = S.LiveId;
        if (window <= 0)
        {
            if (liveId is not null)
            {
                await EndLiveAsync(liveId, EndReason.ReconnectTimeout, "ingest");
            }

            S.DisconnectedAt = now;
            Record(EventTypes.StreamDisconnected, now);
            BecomeIdle(now);
            await CommitAsync();
            return new IngestDecision(IngestOutcome.Allowed, liveId);
        }

        // The durable reminder first, then the state that needs it: whenever the stored state says
        // reconnecting, a reminder exists to settle it, whichever silo survives.
        var due = TimeSpan.FromSeconds(window.Value);
        await this.RegisterOrUpdateReminder(WindowReminderName, due, ReminderPeriod);
        S.Status = StreamStatus.Reconnecting;
        S.DisconnectedAt = now;
        S.ReconnectDeadline = now + due;
        S.PublisherId = null;
        S.UpdatedAt = now;
        Record(EventTypes.StreamDisconnected, now);
        await CommitAsync();
        ArmWindowTimer();

        // Paused after our write: a crash in between leaves the live on air, and the window still ends it.
        if (liveId is not null)
        {
            await TellRoomConnectionAsync(liveId, connected: false);
            var paused = await Room.TransitionLiveAsync(liveId, new LiveCommand(LiveCommandKind.Pause, "ingest"));
            if (!paused.IsSuccess)
            {
                logger.LogInformation("Stream {StreamId}: live {LiveId} not paused: {Error}", StreamId, liveId, paused.Error);
            }
        }

        logger.LogInformation("Stream {StreamId}: disconnected, reconnect window {Window} s", StreamId, window);
        return new IngestDecision(IngestOutcome.Allowed, liveId);
    }

    /// <summary>
    /// The live's <c>host.is_streaming</c> and <c>playback</c> (issue 13). After our own write and best effort: a failure
    /// leaves the flag behind until the next connect or disconnect, and never refuses the publish.
    /// </summary>
    private async Task TellRoomConnectionAsync(string? liveId, bool connected)
    {
        if (liveId is null)
        {
            return;
        }

        try
        {
            await Room.SetStreamConnectionAsync(liveId, StreamId, connected);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Stream {StreamId}: telling live {LiveId} that its stream {State} failed", StreamId, liveId, connected ? "connected" : "disconnected");
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => reminderName switch
    {
        WindowReminderName => CheckWindowAsync(),
        OutboxRelay.ReminderName => Relay.ReceiveReminderAsync(),
        _ => Task.CompletedTask,
    };

    /// <summary>Settles the reconnect window if it has passed; safe to call any number of times.</summary>
    private async Task CheckWindowAsync()
    {
        if (S.Status != StreamStatus.Reconnecting || S.ReconnectDeadline is not { } deadline)
        {
            await ForgetWindowAsync();
            return;
        }

        var now = clock.UtcNow;
        if (now < deadline)
        {
            ArmWindowTimer();
            return;
        }

        if (S.LiveId is { } liveId)
        {
            // Ended before our write: if we crash in between, the reminder fires again and ends nothing new.
            await EndLiveAsync(liveId, EndReason.ReconnectTimeout, "ingest");
        }

        BecomeIdle(now);
        await CommitAsync();
        await ForgetWindowAsync();
        logger.LogInformation("Stream {StreamId}: reconnect window passed, stream idle", StreamId);
    }

    private void ArmWindowTimer()
    {
        _windowTimer?.Dispose();
        _windowTimer = null;
        if (S.ReconnectDeadline is not { } deadline)
        {
            return;
        }

        var due = deadline - clock.UtcNow;
        _windowTimer = this.RegisterGrainTimer(
            static (grain, _) => grain.CheckWindowAsync(),
            this,
            new GrainTimerCreationOptions(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task ForgetWindowAsync()
    {
        _windowTimer?.Dispose();
        _windowTimer = null;
        var reminder = await this.GetReminder(WindowReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    private TimeSpan ReminderPeriod
    {
        get
        {
            var configured = options.Value.ReminderPeriod;
            var minimum = reminderOptions.Value.MinimumReminderPeriod;
            return configured < minimum ? minimum : configured;
        }
    }

    private async Task EndLiveAsync(string liveId, EndReason reason, string by)
    {
        var ended = await Room.TransitionLiveAsync(liveId, new LiveCommand(LiveCommandKind.End, by, reason));
        if (!ended.IsSuccess)
        {
            logger.LogInformation("Stream {StreamId}: live {LiveId} not ended ({Reason}): {Error}", StreamId, liveId, reason, ended.Error);
        }
    }

    private void BecomeIdle(DateTimeOffset now)
    {
        if (S.RecordingActive)
        {
            StopRecording(now);
        }

        S.Status = StreamStatus.Idle;
        S.LiveId = null;
        S.PublisherId = null;
        S.ReconnectDeadline = null;
        S.UpdatedAt = now;
        Record(EventTypes.StreamIdle, now);
    }

    private void StartRecording(DateTimeOffset now, RecordingTrigger trigger)
    {
        var session = new RecordingSessionDto(Ids.New("rec_", now), now, null, trigger, S.LiveId);
        S.RecordingSessions.Add(session);
        if (S.RecordingSessions.Count > options.Value.MaxRecordingSessions)
        {
            S.RecordingSessions.RemoveAt(0);
        }

        S.Outbox.Record(EventTypes.RecordingStarted, S.Tenant, "stream", StreamId, now, new RecordingEventData(StreamId, S.RoomId, S.LiveId, session));
    }

    private void StopRecording(DateTimeOffset now)
    {
        var session = S.RecordingSessions[^1] with { StoppedAt = now };
        S.RecordingSessions[^1] = session;
        S.Outbox.Record(EventTypes.RecordingStopped, S.Tenant, "stream", StreamId, now, new RecordingEventData(StreamId, S.RoomId, session.LiveId, session));
    }

    private void Record(string type, DateTimeOffset now) =>
        S.Outbox.Record(type, S.Tenant, "stream", StreamId, now, ToDto());

    private async Task CommitAsync()
    {
        await state.WriteOrReloadAsync(this, logger);
        await Relay.HandOffAsync();
    }

    private IngestDecision? Refuse(IngestCallback callback)
    {
        IngestOutcome? outcome = !S.Exists ? IngestOutcome.UnknownStream
            : !StreamKeys.Matches(StreamId, callback.StreamKey, S.KeyHash) ? IngestOutcome.BadKey
            : !S.Enabled ? IngestOutcome.Disabled
            : null;
        if (outcome is null)
        {
            return null;
        }

        // Never the key: the stream id (the public half of the key) and who asked.
        logger.LogWarning("Stream {StreamId}: {Server} publisher {ClientId} from {Address} refused: {Outcome}",
            StreamId, callback.Server, callback.ClientId, callback.RemoteAddress, outcome);
        return new IngestDecision(outcome.Value);
    }

    private static string? PublisherOf(IngestCallback callback) =>
        string.IsNullOrEmpty(callback.ClientId) ? null : $"{callback.Server}:{callback.ClientId}";

    private bool BelongsTo(string tenant) => S.Exists && string.Equals(S.Tenant, tenant, StringComparison.Ordinal);

    private static Result<StreamDto> NotFound() => DomainError.NotFound("Stream");

    private StreamDto ToDto() => new(
        StreamId, S.RoomId, S.Enabled, S.Status, S.Recording, S.RecordingActive, S.ConnectedAt, S.DisconnectedAt, S.LiveId,
        S.ReconnectWindowSeconds, S.ReconnectDeadline, S.KeyVersion, S.CreatedAt, S.UpdatedAt, [.. S.RecordingSessions]);
}

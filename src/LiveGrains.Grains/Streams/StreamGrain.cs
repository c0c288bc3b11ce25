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
public sealed partial class StreamGrain(
    [PersistentState("stream", LiveGrainsStorage.State)] IPersistentState<StreamState> state,
    IResourceEventSink events,
    LiveGrainsClock clock,
    IOptions<StreamOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    IMediaServerControl mediaServers,
    ILogger<StreamGrain> logger) : Grain, IStreamGrain, IRemindable
{
    public const string WindowReminderName = "reconnect-window";
    public const string DropReminderName = "drop-publisher";
    public const int MaxNameLength = 200;
    public const int DefaultReconnectWindowSeconds = 60;

    private OutboxRelay? _relay;
    private IGrainTimer? _windowTimer;
    private BatchWorkerFromDelegate? _dropper;
    private TimeSpan _dropBackoff;

    private OutboxRelay Relay => _relay ??= new OutboxRelay(this, () => S.Outbox, events, clock, logger);

    private string StreamId => this.GetPrimaryKeyString();

    private StreamState S => state.State;

    private IRoomGrain Room => GrainFactory.Get<IRoomGrain>(TenantKey.Compose(S.Tenant, S.RoomId));

    private string Actor => "stream:" + StreamId;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Relay.Kick();
        if (S.Status == StreamStatus.Reconnecting)
        {
            ArmWindowTimer();
        }

        if (S.PendingDrops.Count > 0)
        {
            Dropper.Notify();
        }

        return Task.CompletedTask;
    }

    public async Task<Result<StreamWithKey>> CreateAsync(string tenant, CreateStreamCommand command)
    {
        if (S.Exists)
        {
            return new DomainError(DomainErrorCode.Unavailable, "Stream id collision; retry.");
        }

        var room = await GrainFactory.Get<IRoomGrain>(TenantKey.Compose(tenant, command.RoomId)).GetAsync();
        if (!room.IsSuccess)
        {
            return room.Error!.Code == DomainErrorCode.NotFound
                ? new DomainError(DomainErrorCode.ValidationFailed, $"Room '{command.RoomId}' does not exist.", "room_id")
                : room.Error!;
        }

        if (command.LiveId is not null)
        {
            // The room checks the live is its own and can still go on air, and lists this stream in its stream_ids.
            var bound = await GrainFactory.Get<IRoomGrain>(TenantKey.Compose(tenant, command.RoomId)).BindStreamAsync(StreamId, command.LiveId, null);
            if (!bound.IsSuccess)
            {
                return bound.Error!;
            }
        }

        var now = clock.UtcNow;

        // In the tenant's streams index before the stream is stored, so a created stream is never missing from the
        // listing (an entry whose create then fails is skipped by the listing).
        await GrainFactory.ResourceShard(tenant, IndexShards.Streams, command.RoomId).UpsertAsync(new ResourceIndexEntry(StreamId, command.RoomId, now));
        var key = StreamKeys.New(StreamId);
        S.Exists = true;
        S.Tenant = tenant;
        S.RoomId = command.RoomId;
        S.Enabled = command.Enabled;
        S.Name = command.Name;
        S.Role = command.Role;
        S.BoundLiveId = command.LiveId;
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

        await ChangeEnabledAsync(enabled);
        return ToDto();
    }

    public async Task<Result<StreamDto>> PatchAsync(string tenant, UpdateStreamCommand command)
    {
        if (!BelongsTo(tenant))
        {
            return NotFound();
        }

        if (command.LiveId is { } liveId)
        {
            var target = liveId.Length == 0 ? null : liveId;
            if (target != S.BoundLiveId)
            {
                var bound = await Room.BindStreamAsync(StreamId, target, S.BoundLiveId);
                if (!bound.IsSuccess)
                {
                    return bound.Error!;
                }

                S.BoundLiveId = target;
            }
        }

        S.Name = command.Name is null ? S.Name : command.Name.Length == 0 ? null : command.Name;
        S.ReconnectWindowSeconds = command.ReconnectWindowSeconds ?? S.ReconnectWindowSeconds;
        S.Recording = command.Recording ?? S.Recording;
        S.UpdatedAt = clock.UtcNow;
        if (command.Enabled is { } enabled && enabled != S.Enabled)
        {
            await ChangeEnabledAsync(enabled); // writes the rest with it
        }
        else
        {
            await CommitAsync();
        }

        return ToDto();
    }

    public async Task<Result<bool>> DeleteAsync(string tenant)
    {
        if (!BelongsTo(tenant))
        {
            return Result<bool>.Fail(DomainError.NotFound("Stream"));
        }

        var now = clock.UtcNow;
        var wasReconnecting = S.Status == StreamStatus.Reconnecting;
        await LeaveLiveAsync(IngestStopKind.Removed, "stream_deleted", now);
        S.Deleted = true;
        S.UpdatedAt = now;
        await CommitAsync();
        if (wasReconnecting)
        {
            await ForgetWindowAsync();
        }

        try
        {
            await GrainFactory.ResourceShard(S.Tenant, IndexShards.Streams, S.RoomId).RemoveAsync(StreamId);
        }
        catch (Exception ex)
        {
            // Harmless: the listing skips an entry whose stream is gone.
            logger.LogWarning(ex, "Stream {StreamId}: removing it from the streams index failed", StreamId);
        }

        return true;
    }

    public async Task LiveClosedAsync(string liveId)
    {
        if (!S.Exists || S.LiveId != liveId || S.Status == StreamStatus.Idle)
        {
            return; // told again, or it feeds another live by now
        }

        var now = clock.UtcNow;
        var wasReconnecting = S.Status == StreamStatus.Reconnecting;
        if (S.Status == StreamStatus.Connected)
        {
            await DropPublisherAsync();
            S.DisconnectedAt = now;
            Record(EventTypes.StreamDisconnected, now);
        }

        BecomeIdle(now);
        await CommitAsync();
        if (wasReconnecting)
        {
            await ForgetWindowAsync();
        }

        logger.LogInformation("Stream {StreamId}: its live {LiveId} closed; stream idle, publisher dropped", StreamId, liveId);
        Dropper.Notify();
    }

    public async Task<Result<VideoDto>> RecordDoneAsync(IngestCallback callback, string file)
    {
        // No key check, as for unpublish: the key may have been rotated while the recording ran. The hook secret
        // authenticates the media server; the stream id routes it.
        if (!S.Exists || S.Deleted)
        {
            return Result<VideoDto>.Fail(DomainError.NotFound("Stream"));
        }

        // A new grain id per file: a reconnect makes a new file, so a new video (Gcore splits at interruptions).
        var videoId = Ids.New("vd_", clock.UtcNow);
        var video = await GrainFactory.Get<IVideoGrain>(videoId).CreateAsync(
            new CreateVideoCommand(S.Tenant, StreamId, S.LiveId ?? S.LastLiveId, S.RoomId, file, S.ConnectedAt));
        logger.LogInformation("Stream {StreamId}: recording finished, video {VideoId} of live {LiveId}", StreamId, videoId, video.LiveId);
        return video;
    }

    public async Task DropsDoneAsync(int count)
    {
        S.PendingDrops.RemoveRange(0, Math.Min(count, S.PendingDrops.Count));
        await CommitAsync();
        if (S.PendingDrops.Count == 0 && await this.GetReminder(DropReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>Disable or enable (API or PATCH); disabling takes the stream off its live and drops its publisher.</summary>
    private async Task ChangeEnabledAsync(bool enabled)
    {
        var now = clock.UtcNow;
        var wasReconnecting = S.Status == StreamStatus.Reconnecting;
        if (!enabled)
        {
            // Documented choice: a disabled key cannot reconnect, so the stream leaves its live now rather than waiting
            // out a window; the live ends unless another stream (a backup) still feeds it.
            await LeaveLiveAsync(IngestStopKind.Removed, "stream_disabled", now);
        }

        S.Enabled = enabled;
        S.UpdatedAt = now;
        Record(enabled ? EventTypes.StreamEnabled : EventTypes.StreamDisabled, now);
        await CommitAsync();
        if (wasReconnecting && !enabled)
        {
            await ForgetWindowAsync();
        }

        Dropper.Notify();
    }

    /// <summary>
    /// The room first (a crash before our write leaves the stream connected, and the next disable or delete repeats it
    /// harmlessly), then the publisher to drop and idle, written by the caller.
    /// </summary>
    private async Task LeaveLiveAsync(IngestStopKind kind, string by, DateTimeOffset now)
    {
        if (S.Status == StreamStatus.Idle)
        {
            return;
        }

        if (S.LiveId is { } liveId)
        {
            await StopFeedingAsync(liveId, kind, by);
        }

        if (S.Status == StreamStatus.Connected)
        {
            await DropPublisherAsync();
            S.DisconnectedAt = now;
            Record(EventTypes.StreamDisconnected, now);
        }

        BecomeIdle(now);
    }

    /// <summary>Queues the current publisher's drop; the durable reminder comes before the write that records it.</summary>
    private async Task DropPublisherAsync()
    {
        if (S.Publisher is not { } publisher)
        {
            return;
        }

        await this.RegisterOrUpdateReminder(DropReminderName, ReminderPeriod, ReminderPeriod);
        S.PendingDrops.Add(publisher);
        S.Publisher = null;
    }

    private BatchWorkerFromDelegate Dropper => _dropper ??= new BatchWorkerFromDelegate(DropPendingAsync);

    /// <summary>
    /// The drop pump: asks the media servers to drop the recorded publishers, in order, outside any request turn, and
    /// records each success through a call to itself (so the state is written in a turn of its own). A failure retries
    /// with backoff (0.5 s doubling to 30 s); the reminder restarts it on another silo if this one dies.
    /// </summary>
    private async Task DropPendingAsync()
    {
        var drops = S.PendingDrops.ToArray();
        var done = 0;
        try
        {
            foreach (var drop in drops)
            {
                await mediaServers.DropAsync(drop, CancellationToken.None);
                done++;
            }

            _dropBackoff = TimeSpan.Zero;
        }
        catch (Exception ex)
        {
            _dropBackoff = _dropBackoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromTicks(Math.Min(_dropBackoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            logger.LogWarning(ex, "Stream {StreamId}: dropping a publisher failed; retrying in {Delay}", StreamId, _dropBackoff);
            Dropper.Notify(DateTime.UtcNow + _dropBackoff);
        }

        if (done > 0)
        {
            await this.AsReference<IStreamGrain>().DropsDoneAsync(done);
        }
    }

    public async Task<Result<StreamWithKey>> RotateKeyAsync(string tenant)
    {
        if (!BelongsTo(tenant))
        {
            return Result<StreamWithKey>.Fail(DomainError.NotFound("Stream"));
        }

        var now = clock.UtcNow;
        var key = StreamKeys.New(StreamId);
        if (S.Status == StreamStatus.Connected)
        {
            // The old key's publisher goes now; its publish_done opens the window, so the host reconnecting with the
            // new key resumes the same live. PublisherId stays: that publish_done is still this stream's.
            var publisherId = S.PublisherId;
            await DropPublisherAsync();
            S.PublisherId = publisherId;
        }

        S.KeyHash = StreamKeys.Hash(StreamId, key);
        S.KeyVersion++;
        S.UpdatedAt = now;
        Record(EventTypes.StreamKeyRotated, now);
        await CommitAsync();
        Dropper.Notify();
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

        var live = await Room.IngestPublishAsync(new IngestPublishCommand(StreamId, S.BoundLiveId, Actor));
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

        if (S.Status == StreamStatus.Connected && S.Publisher is not null && S.Publisher != PublisherRefOf(callback))
        {
            // Taken over: the older publisher is dropped now rather than at its next on_update.
            await DropPublisherAsync();
        }

        S.Status = StreamStatus.Connected;
        S.LiveId = live.Value!.Live.LiveId;
        S.LastLiveId = S.LiveId;
        S.PublisherId = publisher;
        S.Publisher = PublisherRefOf(callback);
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

        if (S.PendingDrops.Count > 0)
        {
            Dropper.Notify();
        }

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
                await StopFeedingAsync(liveId, IngestStopKind.WindowPassed, "ingest");
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
        S.Publisher = null;
        S.UpdatedAt = now;
        Record(EventTypes.StreamDisconnected, now);
        await CommitAsync();
        ArmWindowTimer();

        // Paused after our write (unless a backup still publishes): a crash in between leaves the live on air, and
        // the window still settles it.
        if (liveId is not null)
        {
            await StopFeedingAsync(liveId, IngestStopKind.Disconnected, "ingest");
        }

        logger.LogInformation("Stream {StreamId}: disconnected, reconnect window {Window} s", StreamId, window);
        return new IngestDecision(IngestOutcome.Allowed, liveId);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => reminderName switch
    {
        WindowReminderName => CheckWindowAsync(),
        DropReminderName => NudgeDropperAsync(),
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
            // Ended before our write (unless a backup still feeds it): if we crash in between, the reminder fires
            // again and ends nothing new.
            await StopFeedingAsync(liveId, IngestStopKind.WindowPassed, "ingest");
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

    private async Task StopFeedingAsync(string liveId, IngestStopKind kind, string by)
    {
        var stopped = await Room.IngestStoppedAsync(new IngestStopCommand(StreamId, liveId, kind, by));
        if (!stopped.IsSuccess)
        {
            logger.LogInformation("Stream {StreamId}: room did not take live {LiveId} off this stream ({Kind}): {Error}", StreamId, liveId, kind, stopped.Error);
        }
    }

    private async Task NudgeDropperAsync()
    {
        if (S.PendingDrops.Count > 0)
        {
            Dropper.Notify();
        }
        else if (await this.GetReminder(DropReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
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
        S.Publisher = null;
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
        IngestOutcome? outcome = !S.Exists || S.Deleted ? IngestOutcome.UnknownStream
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

    private static PublisherRef? PublisherRefOf(IngestCallback callback) =>
        string.IsNullOrEmpty(callback.ClientId) ? null : new PublisherRef(callback.Server, callback.ClientId, NullIfEmpty(callback.App), NullIfEmpty(callback.Protocol));

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static string? PublisherOf(IngestCallback callback) =>
        string.IsNullOrEmpty(callback.ClientId) ? null : $"{callback.Server}:{callback.ClientId}";

    private bool BelongsTo(string tenant) => S.Exists && !S.Deleted && string.Equals(S.Tenant, tenant, StringComparison.Ordinal);

    private static Result<StreamDto> NotFound() => DomainError.NotFound("Stream");

    private StreamDto ToDto() => new(
        StreamId, S.RoomId, S.Enabled, S.Status, S.Recording, S.RecordingActive, S.ConnectedAt, S.DisconnectedAt, S.LiveId,
        S.ReconnectWindowSeconds, S.ReconnectDeadline, S.KeyVersion, S.CreatedAt, S.UpdatedAt, [.. S.RecordingSessions],
        S.Name, S.Role, S.BoundLiveId);
}

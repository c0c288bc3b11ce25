using System.Globalization;
using System.Text;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;
using LiveGrains.Grains.Lives;
using Microsoft.Extensions.Logging;
using Orleans.Core.Internal;

namespace LiveGrains.Grains.Rooms;

/// <summary>
/// The arbiter of a room's lives. Any decision that changes which live is active is first written to the
/// room's state as an intent (new active live id plus the live operations to perform), then applied to the
/// live grains in order; intents left unapplied by a crash are replayed before the room's next operation.
/// See docs/consistency.md.
/// </summary>
public sealed class RoomGrain(
    [PersistentState("room", LiveGrainsStorage.State)] IPersistentState<RoomState> state,
    IResourceEventSink events,
    LiveGrainsClock clock,
    ILogger<RoomGrain> logger) : Grain, IRoomGrain, IRemindable
{
    /// <summary>
    /// How long a room remembers a go-live/schedule request id for retries: longer than a retry of an unanswered
    /// request can come (the Idempotency-Key lease is 60 s, a client retries for up to minutes). A count alone is
    /// not enough: 64 ids covered only about 15-30 s of a busy room under chaos load (2-4 decisions/s), less than a
    /// go-live retried after 10 s call timeouts, a 15 s client timeout and backoff may take to come back.
    /// </summary>
    public static readonly TimeSpan RequestMemory = TimeSpan.FromMinutes(10);

    /// <summary>Hard bound on remembered request ids (state size); the oldest go first.</summary>
    public const int RecentRequestLimit = 2048;

    /// <summary>The last ids kept whatever their age.</summary>
    public const int RecentRequestMinimum = 64;

    private OutboxRelay? _relay;

    /// <summary>A pending intent was re-sequenced after a failed apply; persist that before retrying it.</summary>
    private bool _pendingRenumbered;

    /// <summary>Lives whose last apply failed: their activation may hold state that storage does not.</summary>
    private readonly HashSet<string> _suspectLives = new(StringComparer.Ordinal);

    private OutboxRelay Relay => _relay ??= new OutboxRelay(this, () => S.Outbox, events, logger);

    private string Tenant => TenantKey.Split(this.GetPrimaryKeyString()).Tenant;

    private string RoomId => TenantKey.Split(this.GetPrimaryKeyString()).Id;

    private RoomState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Relay.Kick();
        if (S.Pending.Count > 0)
        {
            // Finish the interrupted decision soon even if nobody calls; not inline, since a live that
            // is activating may be the one waiting on this room.
            this.RegisterGrainTimer(
                static (grain, _) => grain.ApplyPendingAsync(),
                this,
                new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        }

        return Task.CompletedTask;
    }

    public async Task<Result<RoomDto>> CreateAsync(CreateRoomCommand command)
    {
        if (S.Exists && command.RequestId is not null && command.RequestId == S.CreatedByRequest)
        {
            return ToDto();
        }

        if (S.Exists)
        {
            return new DomainError(DomainErrorCode.RoomExists, $"Room '{RoomId}' already exists.", "room_id");
        }

        var now = clock.UtcNow;
        S.Exists = true;
        S.Title = command.Title;
        S.HostId = command.HostId;
        S.TakeoverPolicy = command.TakeoverPolicy;
        S.ReconnectWindowSeconds = command.ReconnectWindowSeconds;
        S.CreatedAt = now;
        S.UpdatedAt = now;
        S.CreatedByRequest = command.RequestId;
        var dto = ToDto();
        S.Outbox.Record(EventTypes.RoomCreated, Tenant, "room", RoomId, now, dto);
        await WriteAsync();
        await Relay.HandOffAsync();
        return dto;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == OutboxRelay.ReminderName ? Relay.ReceiveReminderAsync() : Task.CompletedTask;

    public async Task<Result<RoomDto>> GetAsync()
    {
        if (!S.Exists)
        {
            return NotFound();
        }

        await ApplyPendingAsync();
        return ToDto();
    }

    public async Task<Result<RoomDto>> UpdateAsync(UpdateRoomCommand command)
    {
        if (!S.Exists)
        {
            return NotFound();
        }

        await ApplyPendingAsync();
        S.Title = command.Title ?? S.Title;
        S.HostId = command.HostId ?? S.HostId;
        S.TakeoverPolicy = command.TakeoverPolicy ?? S.TakeoverPolicy;
        S.ReconnectWindowSeconds = command.ReconnectWindowSeconds ?? S.ReconnectWindowSeconds;
        S.UpdatedAt = clock.UtcNow;
        await WriteAsync();
        return ToDto();
    }

    public async Task<Result<GoLiveResult>> GoLiveAsync(GoLiveCommand command)
    {
        if (!S.Exists)
        {
            return NotFound();
        }

        await ApplyPendingAsync();
        if (DecidedBefore(command.RequestId) is { } decided)
        {
            return new GoLiveResult(
                await LiveAsync([], decided.LiveId),
                decided.ClosedLiveId is null ? null : await LiveAsync([], decided.ClosedLiveId));
        }

        if (RefuseTakeover() is { } refused)
        {
            return refused;
        }

        var now = clock.UtcNow;
        var liveId = Ids.NewLiveId(now);
        var closed = S.ActiveLiveId;
        RememberRequest(command.RequestId, liveId, closed);
        var intents = new List<PendingLiveIntent>(2);
        if (closed is not null)
        {
            intents.Add(Intent(closed, now, new LiveCommand(LiveCommandKind.End, command.StartedBy, EndReason.Superseded), null));
        }

        intents.Add(Intent(liveId, now, null, new LiveCreation(Tenant, RoomId, command.Title, null, StartNow: true, command.StartedBy)));
        S.Lives.Add(liveId);
        var applied = await DecideAsync(liveId, intents, now);
        return new GoLiveResult(await LiveAsync(applied, liveId), closed is null ? null : await LiveAsync(applied, closed));
    }

    public async Task<Result<IngestLiveResult>> GoLiveForIngestAsync(GoLiveCommand command)
    {
        if (!S.Exists)
        {
            return NotFound();
        }

        await ApplyPendingAsync();
        var now = clock.UtcNow;
        if (S.ActiveLiveId is { } active)
        {
            var live = GrainFactory.GetGrain<ILiveGrain>(active);
            var current = await live.GetSnapshotAsync();
            if (current is { Status: LiveStatus.Paused })
            {
                // Resuming does not change which live is active: the live applies it alone, as in TransitionLiveAsync.
                var resumed = await live.ApplyAsync(new LiveOperation(0, now, new LiveCommand(LiveCommandKind.Resume, command.StartedBy), null));
                current = resumed.IsSuccess ? resumed.Value : await live.GetSnapshotAsync();
            }

            if (current is { Status: LiveStatus.Live or LiveStatus.Paused })
            {
                return new IngestLiveResult(current, Created: false);
            }
        }

        var liveId = Ids.NewLiveId(now);
        S.Lives.Add(liveId);
        var intent = Intent(liveId, now, null, new LiveCreation(Tenant, RoomId, command.Title, null, StartNow: true, command.StartedBy));
        var applied = await DecideAsync(liveId, [intent], now);
        return new IngestLiveResult(await LiveAsync(applied, liveId), Created: true);
    }

    public async Task<Result<LiveDto>> ScheduleLiveAsync(ScheduleLiveCommand command)
    {
        if (!S.Exists)
        {
            return NotFound();
        }

        await ApplyPendingAsync();
        if (DecidedBefore(command.RequestId) is { } decided)
        {
            return await LiveAsync([], decided.LiveId);
        }

        var now = clock.UtcNow;
        var liveId = Ids.NewLiveId(now);
        RememberRequest(command.RequestId, liveId, null);
        S.Lives.Add(liveId);
        var intent = Intent(liveId, now, null, new LiveCreation(Tenant, RoomId, command.Title, command.ScheduledStartTime, StartNow: false, null));
        var applied = await DecideAsync(S.ActiveLiveId, [intent], now);
        return await LiveAsync(applied, liveId);
    }

    public async Task<Result<LiveDto>> TransitionLiveAsync(string liveId, LiveCommand command)
    {
        if (!S.Exists || !S.Lives.Contains(liveId))
        {
            return DomainError.NotFound("Live");
        }

        await ApplyPendingAsync();
        var live = GrainFactory.GetGrain<ILiveGrain>(liveId);
        var now = clock.UtcNow;
        switch (command.Kind)
        {
            case LiveCommandKind.Start:
                {
                    var current = await live.GetSnapshotAsync();
                    if (current is null)
                    {
                        return DomainError.NotFound("Live");
                    }

                    if (!LiveStateMachine.IsAllowed(current.Status, LiveCommandKind.Start))
                    {
                        return await live.ApplyAsync(new LiveOperation(0, now, command, null));
                    }

                    if (RefuseTakeover() is { } refused)
                    {
                        return refused;
                    }

                    var intents = new List<PendingLiveIntent>(2);
                    if (S.ActiveLiveId is { } closed)
                    {
                        intents.Add(Intent(closed, now, new LiveCommand(LiveCommandKind.End, command.By, EndReason.Superseded), null));
                    }

                    intents.Add(Intent(liveId, now, command, null));
                    return await LiveAsync(await DecideAsync(liveId, intents, now), liveId);
                }

            case LiveCommandKind.End when liveId == S.ActiveLiveId:
                return await LiveAsync(await DecideAsync(null, [Intent(liveId, now, command, null)], now), liveId);

            default:
                // ready, pause, resume and ending an inactive live do not change which live is active:
                // the live applies them alone, still serialized through this room.
                return await live.ApplyAsync(new LiveOperation(0, now, command, null));
        }
    }

    public async Task<Result<LivePage>> ListLivesAsync(int limit, string? cursor)
    {
        if (!S.Exists)
        {
            return NotFound();
        }

        var end = S.Lives.Count;
        if (cursor is not null && (!TryDecodeCursor(cursor, out end) || end > S.Lives.Count))
        {
            return new DomainError(DomainErrorCode.ValidationFailed, "The cursor is not valid for this room.", "cursor");
        }

        await ApplyPendingAsync();
        var start = Math.Max(0, end - limit);
        var ids = new List<string>(end - start);
        for (var i = end - 1; i >= start; i--)
        {
            ids.Add(S.Lives[i]);
        }

        var lives = await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ILiveGrain>(id).GetSnapshotAsync()));
        var items = lives.Where(l => l is not null).Select(l => l!).ToList();
        return new LivePage(items, start > 0 ? EncodeCursor(start) : null);
    }

    public Task ReconcileAsync() => ApplyPendingAsync();

    private DomainError? RefuseTakeover() =>
        S.ActiveLiveId is { } active && S.TakeoverPolicy == TakeoverPolicy.Reject
            ? new DomainError(DomainErrorCode.LiveAlreadyActive, $"Live '{active}' is active in this room and its takeover policy is 'reject'.")
            : null;

    private PendingLiveIntent Intent(string liveId, DateTimeOffset now, LiveCommand? command, LiveCreation? create) =>
        new(liveId, new LiveOperation(++S.LastIntentSequence, now, command, create));

    /// <summary>Persists the decision (new active live and its intents) in one write, then applies it.</summary>
    private async Task<Dictionary<string, LiveDto>> DecideAsync(string? activeLiveId, List<PendingLiveIntent> intents, DateTimeOffset now)
    {
        var wasActive = S.ActiveLiveId is not null;
        S.ActiveLiveId = activeLiveId;
        S.UpdatedAt = now;
        S.Pending.AddRange(intents);
        await WriteAsync();
        RecordMetrics(wasActive, intents);
        return await ApplyPendingAsync();
    }

    /// <summary>
    /// Writes the room. Every mutation happens in memory before its write, so a failed write must not leave
    /// an unpersisted decision (say, a new active live) in this activation: reload what storage holds and let
    /// the activation go, and the caller sees the failure.
    /// </summary>
    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception writeError)
        {
            logger.LogWarning(writeError, "Room {RoomId}: state write failed; reloading it and deactivating", RoomId);
            this.DeactivateOnIdle();
            try
            {
                await state.ReadStateAsync();
                _pendingRenumbered = false;
            }
            catch (Exception readError)
            {
                logger.LogWarning(readError, "Room {RoomId}: reloading state after a failed write failed too", RoomId);
            }

            throw;
        }
    }

    /// <summary>
    /// Applies pending intents one after the other (the old live ends before the new one starts, so no
    /// reader sees two lives on air). Intents stay in memory-cleared but persisted form until the next
    /// write; replaying them is harmless because lives skip sequences they already applied.
    /// </summary>
    private async Task<Dictionary<string, LiveDto>> ApplyPendingAsync()
    {
        var applied = new Dictionary<string, LiveDto>(StringComparer.Ordinal);
        if (_pendingRenumbered && S.Pending.Count > 0)
        {
            await WriteAsync();
            _pendingRenumbered = false;
        }

        while (S.Pending.Count > 0)
        {
            var intent = S.Pending[0];
            var live = GrainFactory.GetGrain<ILiveGrain>(intent.LiveId);
            if (_suspectLives.Remove(intent.LiveId))
            {
                await DeactivateAsync(live);
            }

            Result<LiveDto> result;
            try
            {
                result = await live.ApplyAsync(intent.Operation);
            }
            catch (Exception ex)
            {
                ForgetUnpersistedLiveState(live, intent, ex);
                throw;
            }

            if (!result.IsSuccess)
            {
                logger.LogError("Room {RoomId}: live {LiveId} refused intent {Sequence}: {Error}", RoomId, intent.LiveId, intent.Operation.Sequence, result.Error);
            }
            else
            {
                applied[intent.LiveId] = result.Value!;
            }

            S.Pending.RemoveAt(0);
        }

        return applied;
    }

    /// <summary>
    /// A live whose write failed may still hold the intent in memory as applied (its in-memory sequence moved
    /// on) although storage never got it; a retry with the same sequence would be skipped and the decision
    /// lost at the live's next activation. So the live is told to drop its activation, and the intent gets a
    /// fresh sequence (persisted before the retry) that no activation of that live can have seen.
    /// </summary>
    private void ForgetUnpersistedLiveState(ILiveGrain live, PendingLiveIntent intent, Exception error)
    {
        logger.LogWarning(error, "Room {RoomId}: live {LiveId} failed to apply intent {Sequence}; it will be retried", RoomId, intent.LiveId, intent.Operation.Sequence);

        // Not awaited: the live may itself be waiting on this room (a read reconciling), which would deadlock.
        live.Cast<IGrainManagementExtension>().DeactivateOnIdle().AsTask().Ignore();
        _suspectLives.Add(intent.LiveId);
        S.Pending[0] = intent with { Operation = intent.Operation with { Sequence = ++S.LastIntentSequence } };
        _pendingRenumbered = true;
    }

    /// <summary>
    /// Before retrying on a suspect live, make sure its old activation is gone; bounded, because the live may be
    /// the caller waiting on this room, and then its queued deactivation runs only after we answer.
    /// </summary>
    private async Task DeactivateAsync(ILiveGrain live)
    {
        try
        {
            await live.Cast<IGrainManagementExtension>().DeactivateOnIdle().AsTask().WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "Room {RoomId}: deactivating live {LiveId} before a retry did not finish", RoomId, live.GetPrimaryKeyString());
        }
    }

    private async Task<LiveDto> LiveAsync(Dictionary<string, LiveDto> applied, string liveId) =>
        applied.TryGetValue(liveId, out var live)
            ? live
            : await GrainFactory.GetGrain<ILiveGrain>(liveId).GetSnapshotAsync()
              ?? throw new InvalidOperationException($"Live {liveId} of room {RoomId} has no state after its intent was applied.");

    private DecidedRequest? DecidedBefore(string? requestId) =>
        requestId is null ? null : S.RecentRequests.Find(r => r.RequestId == requestId);

    /// <summary>Recorded in memory now and persisted by the decision's own write, so it is exactly as durable as the decision.</summary>
    private void RememberRequest(string? requestId, string liveId, string? closedLiveId)
    {
        if (requestId is null)
        {
            return;
        }

        var now = clock.UtcNow;
        var expired = 0;
        var recent = S.RecentRequests;
        while (expired < recent.Count - RecentRequestMinimum + 1
            && (recent.Count - expired >= RecentRequestLimit || now - recent[expired].DecidedAt > RequestMemory))
        {
            expired++;
        }

        if (expired > 0)
        {
            recent.RemoveRange(0, expired);
        }

        recent.Add(new DecidedRequest(requestId, liveId, closedLiveId, now));
    }

    private void RecordMetrics(bool wasActive, List<PendingLiveIntent> intents)
    {
        var isActive = S.ActiveLiveId is not null;
        if (wasActive != isActive)
        {
            LiveGrainsMetrics.LivesActive.Add(isActive ? 1 : -1);
        }

        foreach (var intent in intents)
        {
            var operation = intent.Operation;
            if (operation.Create is { StartNow: true } || operation.Command?.Kind == LiveCommandKind.Start)
            {
                LiveGrainsMetrics.GoLives.Add(1);
            }
            else if (operation.Command is { Kind: LiveCommandKind.End, Reason: EndReason.Superseded })
            {
                LiveGrainsMetrics.Takeovers.Add(1);
            }
        }
    }

    private static string EncodeCursor(int position) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes("p:" + position.ToString(CultureInfo.InvariantCulture))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeCursor(string cursor, out int position)
    {
        position = 0;
        var base64 = cursor.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        Span<byte> buffer = stackalloc byte[64];
        if (cursor.Length > 64 || !Convert.TryFromBase64String(base64, buffer, out var written))
        {
            return false;
        }

        var text = Encoding.UTF8.GetString(buffer[..written]);
        return text.StartsWith("p:", StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out position);
    }

    private DomainError NotFound() => DomainError.NotFound($"Room '{RoomId}'");

    private RoomDto ToDto() => new(
        RoomId, S.Title, S.HostId, S.TakeoverPolicy, S.ReconnectWindowSeconds, S.ActiveLiveId, S.CreatedAt, S.UpdatedAt);
}

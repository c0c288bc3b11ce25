using System.Globalization;
using System.Text;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Events;
using LiveGrains.Grains.Listing;
using LiveGrains.Grains.Lives;
using LiveGrains.Grains.Presets;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Grains.Rooms;

/// <summary>
/// A room and the one owner of "which live is on air". Its state holds the lifecycle of every live of the room that
/// is not archived yet, so a decision (a go-live that supersedes the live on air, a start, an end) applies
/// <see cref="LiveStateMachine"/> to those lifecycles and commits them, their webhook events (the outbox) and the
/// request id in ONE write. The invariant holds by construction: nothing else writes a lifecycle the room owns.
/// After the write, one background worker (the pump) tells the lives' statistics, stores ended lives' final records
/// in the <see cref="LiveArchives"/> and saves full history pages; all of it is durable in this state until done, and
/// idempotent. See docs/consistency.md.
/// </summary>
public sealed partial class RoomGrain(
    [PersistentState("room", LiveGrainsStorage.State)] IPersistentState<RoomState> state,
    IResourceEventSink events,
    LiveArchives archives,
    LiveIndexPushes indexPushes,
    PresetCache presets,
    Microsoft.Extensions.Options.IOptions<LiveLinksOptions> links,
    LiveGrainsClock clock,
    ILogger<RoomGrain> logger) : Grain, IRoomGrain, IRemindable
{
    private const int PageSize = IRoomHistoryPageGrain.PageSize;

    /// <summary>How long a change made by the pump alone (lives archived, a page saved) may stay unwritten.</summary>
    internal static readonly TimeSpan SaveDelay = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PumpRetryDelay = TimeSpan.FromSeconds(2);
    private const int ArchiveBatch = 64;
    private static readonly TimeSpan StatsPushWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a room stays activated after its last call when nothing else is configured (<c>Rooms:IdleCollectionSeconds</c>,
    /// applied as Orleans' class-specific collection age; Orleans' default for other grains is 15 minutes). Everything a
    /// room decides is in its stored state, and an on-air live needs nothing from its room while nobody calls it (the
    /// reconnect window is the stream's reminder, webhooks the outbox's reminder, audiences the statistics grains'), so
    /// 100,000 idle lives need not hold 100,000 activations (docs/benchmarks.md, run M); the next call reactivates the
    /// room with one storage read. Long enough that a busy room (a go-live every few seconds) never pays that read.
    /// </summary>
    public static readonly TimeSpan DefaultIdleCollectionAge = TimeSpan.FromMinutes(2);

    /// <summary>While the pump retries failed work, the room is not collected for at least this long after each try.</summary>
    private static readonly TimeSpan PumpKeepAlive = TimeSpan.FromMinutes(1);

    // The in-memory bookkeeping below is created when first needed: most activations of a room (an idle live on air,
    // a read) never need it, and an activation's empty collections are a few hundred bytes each of 100,000 rooms.

    /// <summary>Lives whose statistics grain may be active: it pulled the live from this activation, or may have before.</summary>
    private HashSet<string>? _watched;

    /// <summary>Committed transitions the statistics have not heard yet, in order.</summary>
    private Queue<LiveStatsSubject>? _statsPushes;

    /// <summary>
    /// The lives as storage holds them: taken at activation and after every write (or reload). The statistics' pull,
    /// <see cref="GetStatsSubjectAsync"/>, answers from it because it interleaves with the room's own turns.
    /// </summary>
    private RoomLive[] _committedLives = [];

    /// <summary>The last statistics each watched live's stats grain reported (they go into events and the archive).</summary>
    private Dictionary<string, StatsDto>? _lastStats;

    /// <summary>Ended lives whose end is stored and whose final record is not in the archive yet, in order.</summary>
    private Queue<string>? _toArchive;

    /// <summary>Lives whose final record is in the archive: they leave the state with the next write.</summary>
    private HashSet<string>? _archived;

    /// <summary>History positions below this are stored (in the room's state or pages).</summary>
    private long _storedHistory;

    /// <summary>History positions below this are in saved page grains (the room's state drops them with its next write).</summary>
    private long _pagesSaved;

    private Task<bool>? _pushing;
    private OutboxRelay? _relay;
    private BatchWorkerFromDelegate? _pump;
    private IGrainTimer? _saveTimer;

    /// <summary>Memory is ahead of storage by what the pump did; the next write (or the save timer) carries it.</summary>
    private bool _unsaved;

    /// <summary>The <see cref="RoomState.Decisions"/> storage holds: the pump indexes only stored decisions.</summary>
    private long _storedDecisions;

    private OutboxRelay Relay => _relay ??= new OutboxRelay(this, () => S.Outbox, events, clock, logger);

    private BatchWorkerFromDelegate Pump => _pump ??= new BatchWorkerFromDelegate(PumpAsync);

    private string Tenant => TenantKey.Split(this.GetPrimaryKeyString()).Tenant;

    private string RoomId => TenantKey.Split(this.GetPrimaryKeyString()).Id;

    private RoomState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A previous activation may have had statistics grains watching any live that took activity.
        foreach (var live in S.Lives)
        {
            if (live.Lifecycle.Status is not LiveStatus.Scheduled)
            {
                Watch(live.LiveId);
            }

            if (live.Lifecycle.Status is LiveStatus.Ended)
            {
                QueueArchive(live.LiveId);
            }
        }

        TakeStoredView();

        if (S.Outbox.Pending.Count > 0)
        {
            Relay.Kick();
        }

        if (HasPumpWork())
        {
            Pump.Notify();
        }

        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == OutboxRelay.ReminderName ? Relay.ReceiveReminderAsync() : Task.CompletedTask;

    public async Task<Result<RoomDto>> CreateAsync(CreateRoomCommand command)
    {
        if (Present && command.RequestId is not null && command.RequestId == S.CreatedByRequest)
        {
            return ToDto();
        }

        if (Present)
        {
            return new DomainError(DomainErrorCode.RoomExists, $"Room '{RoomId}' already exists.", "room_id");
        }

        if (await UnknownPresetAsync(command.PresetId) is { } unknown)
        {
            return unknown;
        }

        var now = clock.UtcNow;

        // In the tenant's rooms index before the room is stored, so a created room is never missing from the listing
        // (an entry whose create then fails is skipped by the listing). Creating a room is not the go-live path.
        await GrainFactory.ResourceShard(Tenant, IndexShards.Rooms, RoomId).UpsertAsync(new ResourceIndexEntry(RoomId, RoomId, now));
        S.Exists = true;
        S.Deleted = false;
        S.Title = command.Title;
        S.HostId = command.HostId;
        S.CoHostIds = command.CoHostIds is { Length: > 0 } coHosts ? coHosts : null;
        S.TakeoverPolicy = command.TakeoverPolicy;
        S.ReconnectWindowSeconds = command.ReconnectWindowSeconds;
        S.Description = NullIfEmpty(command.Details?.Description);
        S.Metadata = NullIfEmpty(command.Details?.Metadata);
        S.Visibility = command.Details?.Visibility ?? Visibility.Public;
        S.CreatedBy = command.Details?.CreatedBy;
        S.PresetId = command.PresetId;
        S.CreatedAt = now;
        S.UpdatedAt = now;
        S.CreatedByRequest = command.RequestId;
        var dto = ToDto();
        S.Outbox.Record(EventTypes.RoomCreated, Tenant, "room", RoomId, now, dto);
        await WriteAsync();
        await Relay.HandOffAsync();

        // A room without a live need not stay activated for Orleans' idle collection age (15 minutes): a tenant that
        // creates rooms in bulk would hold every room of the last 15 minutes, about 6 KB each (a million rooms at a few
        // hundred a second: gigabytes; docs/listing.md, issue 13's benchmark). Its next call reactivates it with one
        // storage read. Only once the create left nothing in flight (events handed off, no pump work).
        if (S.Lives.Count == 0 && S.Outbox.Pending.Count == 0 && !HasPumpWork())
        {
            DeactivateOnIdle();
        }

        return dto;
    }

    public Task<Result<RoomDto>> GetAsync() => Task.FromResult(Present ? ToDto() : Result<RoomDto>.Fail(NotFound()));

    public async Task<Result<RoomDto>> UpdateAsync(UpdateRoomCommand command)
    {
        if (!Present)
        {
            return NotFound();
        }

        if (command.PresetId is { Length: > 0 } && await UnknownPresetAsync(command.PresetId) is { } unknown)
        {
            return unknown;
        }

        S.PresetId = command.PresetId is null ? S.PresetId : NullIfEmpty(command.PresetId);
        S.Title = command.Title ?? S.Title;
        S.HostId = command.HostId ?? S.HostId;
        S.CoHostIds = command.CoHostIds is null ? S.CoHostIds : command.CoHostIds.Length == 0 ? null : command.CoHostIds;
        S.TakeoverPolicy = command.TakeoverPolicy ?? S.TakeoverPolicy;
        S.ReconnectWindowSeconds = command.ReconnectWindowSeconds ?? S.ReconnectWindowSeconds;
        if (command.Details is { } details)
        {
            S.Description = details.Description is null ? S.Description : NullIfEmpty(details.Description);
            S.Metadata = details.Metadata is null ? S.Metadata : NullIfEmpty(details.Metadata);
            S.Visibility = details.Visibility ?? S.Visibility;
        }

        S.UpdatedAt = clock.UtcNow;
        await WriteAsync();
        return ToDto();
    }

    public async Task<Result<GoLiveResult>> GoLiveAsync(GoLiveCommand command)
    {
        if (!Present)
        {
            return NotFound();
        }

        if (RoomRequests.Find(S.RecentRequests, command.RequestId) is { } decided)
        {
            var live = await DecidedLiveAsync(decided.LiveKey);
            var closedLive = decided.ClosedLiveKey is null ? null : await DecidedLiveAsync(decided.ClosedLiveKey);
            return new GoLiveResult(live, closedLive);
        }

        if (RefuseTakeover() is { } refused)
        {
            return refused;
        }

        var settings = await NewLiveSettingsAsync(command.Overrides);
        var now = clock.UtcNow;
        var changed = new List<(RoomLive, string)>(2);
        var closed = Supersede(Active(), command.StartedBy, now, changed);
        var started = AddLive(command.Title, null, startedBy: command.StartedBy, start: true, now, changed, command.Details, settings, command.Mode);
        RoomRequests.Remember(S.RecentRequests, command.RequestId, LiveKey(started.LiveId), closed is null ? null : LiveKey(closed.LiveId), now);
        await CommitAsync(changed, now);
        return new GoLiveResult(Dto(started), closed is null ? null : Dto(closed));
    }

    public async Task<Result<IngestLiveResult>> GoLiveForIngestAsync(GoLiveCommand command)
    {
        if (!Present)
        {
            return NotFound();
        }

        var now = clock.UtcNow;
        var changed = new List<(RoomLive, string)>(1);
        if (Active() is { } active)
        {
            if (active.Lifecycle.Status == LiveStatus.Paused)
            {
                active = Change(active, LiveStateMachine.Apply(active.Lifecycle, new LiveCommand(LiveCommandKind.Resume, command.StartedBy), now), now, changed);
                await CommitAsync(changed, now);
            }

            return new IngestLiveResult(Dto(active), Created: false);
        }

        var settings = await NewLiveSettingsAsync(command.Overrides);
        var started = AddLive(command.Title, null, startedBy: command.StartedBy, start: true, now, changed, settings: settings);
        await CommitAsync(changed, now);
        return new IngestLiveResult(Dto(started), Created: true);
    }

    public async Task<Result<LiveDto>> ScheduleLiveAsync(ScheduleLiveCommand command)
    {
        if (!Present)
        {
            return NotFound();
        }

        if (RoomRequests.Find(S.RecentRequests, command.RequestId) is { } decided)
        {
            return await DecidedLiveAsync(decided.LiveKey);
        }

        var settings = await NewLiveSettingsAsync(command.Overrides);
        var now = clock.UtcNow;
        var changed = new List<(RoomLive, string)>(1);
        var scheduled = AddLive(command.Title, command.ScheduledStartTime, startedBy: null, start: false, now, changed, command.Details, settings, command.Mode);
        RoomRequests.Remember(S.RecentRequests, command.RequestId, LiveKey(scheduled.LiveId), null, now);
        await CommitAsync(changed, now);
        return Dto(scheduled);
    }

    public async Task<Result<LiveDto>> TransitionLiveAsync(string liveId, LiveCommand command)
    {
        if (!S.Exists || !IsOurs(liveId))
        {
            return DomainError.NotFound("Live");
        }

        if (RoomRequests.Find(S.RecentRequests, command.RequestId) is { } decided && decided.LiveKey == LiveKey(liveId))
        {
            return await DecidedLiveAsync(decided.LiveKey);
        }

        if (Find(liveId) is not { } live)
        {
            // Not ours any more: archived, so ended, and every command is refused; or it never existed.
            return await archives.ReadAsync(liveId, Tenant) is { } archived
                ? LiveStateMachine.Refusal(archived.Live.Status, command.Kind)!
                : DomainError.NotFound("Live");
        }

        var now = clock.UtcNow;
        var transition = LiveStateMachine.Apply(live.Lifecycle, command, now);
        if (!transition.IsSuccess)
        {
            return transition.Error!;
        }

        var changed = new List<(RoomLive, string)>(2);
        if (command.Kind == LiveCommandKind.Start)
        {
            if (RefuseTakeover() is { } refused)
            {
                return refused;
            }

            Supersede(Active(), command.By, now, changed);
        }

        live = Change(live, transition, now, changed);
        RoomRequests.Remember(S.RecentRequests, command.RequestId, LiveKey(liveId), null, now);
        await CommitAsync(changed, now);
        return Dto(live);
    }

    public async Task<Result<bool>> DeleteAsync(string? by)
    {
        if (!Present)
        {
            return NotFound();
        }

        if (Active() is { } active)
        {
            return new DomainError(DomainErrorCode.LiveAlreadyActive, $"Live '{active.LiveId}' is active in this room; end it before deleting the room.");
        }

        // Lives that could still start would belong to a room that is gone: they end now ('cancelled'), in the same
        // write as the deletion. Every live of the room stays readable at /v1/lives/{live_id}.
        var now = clock.UtcNow;
        var changed = new List<(RoomLive, string)>();
        foreach (var pending in S.Lives.Where(l => l.Lifecycle.Status is LiveStatus.Scheduled or LiveStatus.Ready).ToList())
        {
            Change(pending, LiveStateMachine.Apply(pending.Lifecycle, new LiveCommand(LiveCommandKind.End, by), now), now, changed);
        }

        S.Deleted = true;
        S.Destinations.Clear(); // nothing is on air (checked above), so each is offline already
        await CommitAsync(changed, now);
        try
        {
            await GrainFactory.ResourceShard(Tenant, IndexShards.Rooms, RoomId).RemoveAsync(RoomId);
        }
        catch (Exception ex)
        {
            // Harmless: the listing skips an entry whose room is gone.
            logger.LogWarning(ex, "Room {RoomId}: removing it from the rooms index failed", RoomId);
        }

        return true;
    }

    public async Task<Result<LiveDto>> UpdateLiveAsync(string liveId, UpdateLiveCommand command)
    {
        var found = await NotEndedLiveAsync(liveId);
        if (found is not { IsSuccess: true, Value: { } live })
        {
            return found.Error!;
        }

        // Not a transition: no event and no new sequence, one write.
        var details = live.Details ?? new ResourceDetails();
        if (command.Details is { } patch)
        {
            details = details with
            {
                Description = patch.Description is null ? details.Description : NullIfEmpty(patch.Description),
                Metadata = patch.Metadata is null ? details.Metadata : NullIfEmpty(patch.Metadata),
                Visibility = patch.Visibility ?? details.Visibility,
            };
        }

        var now = clock.UtcNow;
        var settingsBefore = live.Settings;
        live = live with
        {
            Title = command.Title is null ? live.Title : NullIfEmpty(command.Title),
            Details = details,
            UpdatedAt = now,
            Settings = WithOverrides(live.Settings, command.Overrides, command.OverridesSet),
            Mode = command.Mode ?? live.Mode,
        };
        S.Lives[S.Lives.FindIndex(l => l.LiveId == liveId)] = live;
        S.UpdatedAt = now;
        await WriteAsync();
        if (live.Settings?.Effective != settingsBefore?.Effective)
        {
            await PushSettingsAsync(live);
        }

        return Dto(live);
    }

    public async Task<Result<LiveDto>> SetHostPresenceAsync(string liveId, bool entered, string? by)
    {
        var found = await NotEndedLiveAsync(liveId);
        if (found is not { IsSuccess: true, Value: { } live })
        {
            return found.Error!;
        }

        var state = entered ? HostState.Entered : HostState.Exited;
        if (live.Host?.State == state)
        {
            return Dto(live); // a repeated enter (or exit) changes nothing and sends nothing
        }

        // Not a lifecycle transition, but an event of the live (live.host_entered / live.host_exited) with its next
        // sequence, in the same one write: webhook consumers follow the host as Sendbird's do.
        var now = clock.UtcNow;
        var host = (live.Host ?? new RoomLiveHost()) with { State = state, By = by };
        host = entered ? host with { EnteredAtMs = now.ToUnixTimeMilliseconds() } : host with { ExitedAtMs = now.ToUnixTimeMilliseconds() };
        var changed = new List<(RoomLive, string)>(1);
        live = Record(live with { Host = host }, entered ? EventTypes.LiveHostEntered : EventTypes.LiveHostExited, now, changed);
        await CommitAsync(changed, now);
        return Dto(live);
    }

    /// <summary>A live of this room that has not ended, for an edit: not found, or live_ended once it ended (archived or not).</summary>
    private async Task<Result<RoomLive>> NotEndedLiveAsync(string liveId)
    {
        if (!S.Exists || !IsOurs(liveId))
        {
            return DomainError.NotFound("Live");
        }

        if (Find(liveId) is not { } live)
        {
            return await ArchivedAsync(liveId) is null
                ? DomainError.NotFound("Live")
                : new DomainError(DomainErrorCode.LiveEnded, "The live has ended; its record is final.");
        }

        return live.Lifecycle.Status == LiveStatus.Ended
            ? new DomainError(DomainErrorCode.LiveEnded, "The live has ended; its record is final.")
            : live;
    }

    public async Task<Result<LivePage>> ListLivesAsync(int limit, string? cursor)
    {
        if (!Present)
        {
            return NotFound();
        }

        var end = S.HistoryCount;
        if (cursor is not null && (!TryDecodeCursor(cursor, out end) || end > S.HistoryCount))
        {
            return new DomainError(DomainErrorCode.ValidationFailed, "The cursor is not valid for this room.", "cursor");
        }

        var start = Math.Max(0, end - limit);
        var ids = await HistoryIdsAsync(start, end);
        ids.Reverse();

        // Decide synchronously which lives the room still owns: anything else is archived, durably.
        var items = ids.Select(id => Find(id) is { } owned ? Task.FromResult<LiveDto?>(Dto(owned)) : ArchivedAsync(id)).ToList();
        var lives = await Task.WhenAll(items);
        return new LivePage([.. lives.Where(l => l is not null).Select(l => l!)], start > 0 ? EncodeCursor(start) : null);
    }

    public Task<Result<LiveTransitionRecord[]>> GetLiveTransitionsAsync(string liveId) =>
        Task.FromResult(S.Exists && Find(liveId) is { } live
            ? Result<LiveTransitionRecord[]>.Ok(Trail(live))
            : Result<LiveTransitionRecord[]>.Fail(DomainError.NotFound("Live")));

    public Task<Result<LiveDto>> GetLiveAsync(string liveId) =>
        Task.FromResult(S.Exists && Find(liveId) is { } live ? Dto(live) : Result<LiveDto>.Fail(DomainError.NotFound("Live")));

    public Task<LiveStatsSubject?> GetStatsSubjectAsync(string liveId)
    {
        // This call interleaves with the room's decisions (IRoomGrain): it may run while one awaits its write, so it
        // reads the lives as stored, never a change storage has not taken yet.
        if (!S.Exists || Array.Find(_committedLives, l => l.LiveId == liveId) is not { } live)
        {
            return Task.FromResult<LiveStatsSubject?>(null);
        }

        Watch(liveId);
        return Task.FromResult<LiveStatsSubject?>(Subject(live));
    }

    /// <summary>The room exists for room calls (a deleted room's lives stay readable through the live calls).</summary>
    private bool Present => S.Exists && !S.Deleted;

    private RoomLive? Active() => S.Lives.Find(l => l.Lifecycle.IsActive);

    private RoomLive? Find(string liveId) => S.Lives.Find(l => l.LiveId == liveId);

    private bool IsOurs(string liveId) => Ids.TryGetRoomOfLive(liveId, out var roomId) && roomId == RoomId;

    private DomainError? RefuseTakeover() =>
        Active() is { } active && S.TakeoverPolicy == TakeoverPolicy.Reject
            ? new DomainError(DomainErrorCode.LiveAlreadyActive, $"Live '{active.LiveId}' is active in this room and its takeover policy is 'reject'.")
            : null;

    /// <summary>Ends <paramref name="active"/> as superseded (the first of the decision's changes, so its event comes first).</summary>
    private RoomLive? Supersede(RoomLive? active, string? by, DateTimeOffset now, List<(RoomLive Live, string EventType)> changed) =>
        active is null
            ? null
            : Change(active, LiveStateMachine.Apply(active.Lifecycle, new LiveCommand(LiveCommandKind.End, by, EndReason.Superseded), now), now, changed);

    private RoomLive AddLive(
        string? title, DateTimeOffset? scheduledStartTime, string? startedBy, bool start, DateTimeOffset now, List<(RoomLive Live, string EventType)> changed,
        ResourceDetails? details = null, LiveSettings? settings = null, LiveMode? mode = null)
    {
        var liveId = Ids.NewLiveId(now, RoomId);
        // The room's state is written with every decision, so a live's record stays lean: created_by is the first
        // transition's actor unless it differs, and a go-live's trail starts with the start (one step, one event).
        var createdBy = details?.CreatedBy ?? startedBy;
        var firstBy = start ? startedBy : createdBy;
        var stored = details is null
            ? null
            : details with
            {
                Description = NullIfEmpty(details.Description),
                Metadata = NullIfEmpty(details.Metadata),
                CreatedBy = createdBy == firstBy ? null : createdBy,
            };
        if (stored == new ResourceDetails())
        {
            stored = null;
        }

        var live = new RoomLive(
            liveId, title, LiveLifecycle.Scheduled(now, scheduledStartTime), 0, stored,
            start ? [] : [RoomTransition.Of(new LiveTransitionRecord(now, null, LiveStatus.Scheduled, createdBy, null))], Settings: settings, Mode: mode ?? LiveMode.Rtmp);
        S.Lives.Add(live);
        S.HistoryTail.Add(LiveKey(liveId));
        S.HistoryCount++;
        if (!start)
        {
            return Record(live, EventTypes.LiveScheduled, now, changed);
        }

        // Created and started in one step, with one event, as a go-live always was.
        return Change(live, LiveStateMachine.Apply(live.Lifecycle, new LiveCommand(LiveCommandKind.Start, startedBy), now), now, changed);
    }

    private RoomLive Change(RoomLive live, LiveTransition transition, DateTimeOffset now, List<(RoomLive Live, string EventType)> changed)
    {
        var next = transition.Next!;
        var by = next.Status switch
        {
            LiveStatus.Ready => next.ReadyBy,
            LiveStatus.Paused => next.PausedBy,
            LiveStatus.Ended => next.EndedBy,
            LiveStatus.Live => live.Lifecycle.Status == LiveStatus.Paused ? next.ResumedBy : next.StartedBy,
            _ => null,
        };
        // An empty trail (not a missing one: lives from before trails) is a go-live's: created and started in one step.
        // From is stored only where the trail cannot tell it: the previous entry's To is the usual From.
        var from = live.Transitions is { Length: 0 } || live.Transitions?[^1].To == live.Lifecycle.Status ? (LiveStatus?)null : live.Lifecycle.Status;
        var entry = RoomTransition.Of(new LiveTransitionRecord(now, from, next.Status, by, next.Status == LiveStatus.Ended ? next.EndReason : null));
        return Record(DetachFeedsIfEnded(live with { Lifecycle = next, Transitions = Append(live.Transitions, entry) }), transition.EventType!, now, changed);
    }

    /// <summary>The trail stays bounded: its first entry (the creation) and the latest ones.</summary>
    private static LiveTransitionRecord[] Trail(RoomLive live)
    {
        var trail = live.Transitions ?? [];
        var records = new LiveTransitionRecord[trail.Length];
        for (var i = 0; i < trail.Length; i++)
        {
            records[i] = trail[i].ToRecord() with { From = trail[i].From ?? (i == 0 ? null : trail[i - 1].To) };
        }

        return records;
    }

    private static RoomTransition[] Append(RoomTransition[]? trail, RoomTransition entry)
    {
        trail ??= [];
        return trail.Length < ResourceLimits.MaxTransitions
            ? [.. trail, entry]
            : [trail[0], Explicit(trail, trail.Length - (ResourceLimits.MaxTransitions - 2)), .. trail[^(ResourceLimits.MaxTransitions - 3)..], entry];

        // The entry right after the cut keeps its From, which the entry before it no longer tells.
        static RoomTransition Explicit(RoomTransition[] trail, int i) => trail[i] with { From = trail[i].From ?? trail[i - 1].To };
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static Dictionary<string, string>? NullIfEmpty(Dictionary<string, string>? map) => map is null || map.Count == 0 ? null : new(map, StringComparer.Ordinal);

    /// <summary>Puts the live's new version in the state and its event in the outbox, with the live's next sequence.</summary>
    private RoomLive Record(RoomLive live, string eventType, DateTimeOffset now, List<(RoomLive Live, string EventType)> changed)
    {
        live = live with { LastEventSequence = live.LastEventSequence + 1 };
        S.Lives[S.Lives.FindIndex(l => l.LiveId == live.LiveId)] = live;
        S.Outbox.Record(eventType, Tenant, "live", live.LiveId, live.LastEventSequence, now, Dto(live));
        changed.Add((live, eventType));
        return live;
    }

    /// <summary>
    /// The one write of a decision: the lifecycles, their events and the request id. Then, outside the answer's
    /// critical path, the pump tells the statistics and archives what ended.
    /// </summary>
    private async Task CommitAsync(List<(RoomLive Live, string EventType)> changed, DateTimeOffset now)
    {
        if (S.Lives.Count(l => l.Lifecycle.IsActive) > 1)
        {
            // Unreachable by construction (every path supersedes first); refuse to persist it if a change ever breaks
            // that, and let this activation go as any failed write does: memory holds a change storage never took.
            this.DeactivateOnIdle();
            await state.ReadStateAsync();
            throw new InvalidOperationException($"Room {RoomId}: a decision would leave two lives on air; refused.");
        }

        SyncDestinations(now);
        S.UpdatedAt = now;
        S.Decisions++;
        await WriteAsync();
        foreach (var (live, eventType) in changed)
        {
            RecordMetrics(live, eventType);
            if (IsWatched(live.LiveId))
            {
                QueueStatsPush(live);
            }

            if (live.Lifecycle.Status == LiveStatus.Ended)
            {
                QueueArchive(live.LiveId);
            }
        }

        // A live with an audience hears of its transition before the answer: once an end is acknowledged, its
        // statistics are frozen and refuse activity. Lives nobody watches cost nothing here.
        try
        {
            await PushStatsAsync().WaitAsync(StatsPushWait);
        }
        catch (TimeoutException)
        {
            // An unreachable statistics grain does not hold the decision's answer; the push goes on, then the pump's.
        }

        if (HasPumpWork())
        {
            Pump.Notify();
        }

        await Relay.HandOffAsync();
    }

    /// <summary>The room's write funnel: every mutation, decided or pumped, is stored through here.</summary>
    private async Task WriteAsync()
    {
        // What the pump finished leaves the state with this write (never while one is in flight).
        if (_archived is { Count: > 0 } archived)
        {
            S.Lives.RemoveAll(l => archived.Contains(l.LiveId));
            archived.Clear();
        }

        ForgetDeliveredDetaches();
        if (_pagesSaved > S.HistorySaved)
        {
            S.HistoryTail.RemoveRange(0, (int)(_pagesSaved - S.HistorySaved));
            S.HistorySaved = _pagesSaved;
        }

        var history = S.HistoryCount;
        var decisions = S.Decisions;
        try
        {
            await state.WriteOrReloadAsync(this, logger);
            _unsaved = false;
            _storedHistory = history;
            _storedDecisions = decisions;
            _committedLives = [.. S.Lives];
        }
        catch
        {
            // The state is what storage holds again (and this activation is going): nothing of memory's view stands.
            TakeStoredView();
            throw;
        }
    }

    /// <summary>Memory's view of what storage holds, taken from the state when the two are the same (activation, reload).</summary>
    private void TakeStoredView()
    {
        _pagesSaved = S.HistorySaved;
        _storedHistory = S.HistoryCount;
        _storedDecisions = S.Decisions;
        _committedLives = [.. S.Lives];
    }

    private bool HasPumpWork() =>
        HasDetachWork() || _statsPushes is { Count: > 0 } || S.IndexedDecisions < _storedDecisions || _toArchive is { Count: > 0 }
        || _pagesSaved + PageSize <= _storedHistory;

    /// <summary>
    /// The room's background work, run by Orleans' <see cref="BatchWorker"/> on this activation between its requests'
    /// turns: (1) tell watching statistics grains about stored transitions, in order; (2) write each stored end's final
    /// record to the <see cref="LiveArchives"/> (after its statistics froze); (3) save full history pages. It works only
    /// from stored decisions, its results leave the state with the room's next write, and each step is idempotent, so
    /// a crash at any point repeats it on the next activation. A failure retries after <see cref="PumpRetryDelay"/>.
    /// </summary>
    private async Task PumpAsync()
    {
        try
        {
            // First: a dropped publisher is what a superseded host waits for (docs/ingest.md, within 2 s).
            await DeliverDetachesAsync();
            if (!await PushStatsAsync())
            {
                RetryPump();
                return;
            }

            // Before the archive: an ended live leaves this state only once the index holds its end.
            await IndexLivesAsync();

            while (_toArchive is { Count: > 0 } toArchive)
            {
                // In parallel, so a room that decides fast never builds a backlog of ended lives in its state.
                var batch = new List<RoomLive>();
                while (batch.Count < ArchiveBatch && toArchive.TryDequeue(out var liveId))
                {
                    if (Find(liveId) is { Lifecycle.Status: LiveStatus.Ended } ended && _archived?.Contains(liveId) != true)
                    {
                        batch.Add(ended);
                    }
                }

                try
                {
                    await Task.WhenAll(batch.Select(ended => archives.WriteAsync(Archive(ended))));
                }
                catch
                {
                    foreach (var ended in batch)
                    {
                        toArchive.Enqueue(ended.LiveId); // the ones that made it are skipped by their grain
                    }

                    throw;
                }

                foreach (var ended in batch)
                {
                    MarkArchived(ended.LiveId);
                    _watched?.Remove(ended.LiveId);
                    _lastStats?.Remove(ended.LiveId);
                }

                MarkUnsaved();
            }

            while (_pagesSaved + PageSize <= _storedHistory)
            {
                var offset = (int)(_pagesSaved - S.HistorySaved);
                if (offset < 0 || offset + PageSize > S.HistoryTail.Count)
                {
                    return; // the state was reloaded under us: this activation is going
                }

                var page = _pagesSaved / PageSize;
                await HistoryPage(page).SaveAsync([.. S.HistoryTail.GetRange(offset, PageSize).Select(LiveIdOf)]);
                if (_pagesSaved == page * PageSize)
                {
                    _pagesSaved += PageSize;
                    MarkUnsaved();
                }
            }
        }
        catch (Exception ex)
        {
            LogPumpFailed(ex);
            RetryPump();
        }
    }

    /// <summary>
    /// Tries the pump's work again shortly, and keeps the activation from idle collection meanwhile: the work is
    /// durable and would resume on the next activation, but a room nobody calls might not get one for a long time
    /// (an ended live not archived, the listing not told).
    /// </summary>
    private void RetryPump()
    {
        DelayDeactivation(PumpKeepAlive);
        Pump.Notify(DateTime.UtcNow + PumpRetryDelay);
    }

    /// <summary>
    /// Pushes the room's lives, as stored, to the tenant's lives index (the shard this room hashes to; one call with the
    /// silo's other rooms' pushes, <see cref="LiveIndexPushes"/>), all of them, idempotent by each live's event sequence.
    /// Only stored decisions are pushed: while a decision's write is in flight this waits for that decision's own notify.
    /// Done is remembered in memory and stored with the next write.
    /// </summary>
    private async Task IndexLivesAsync()
    {
        var target = _storedDecisions;
        if (S.IndexedDecisions >= target || S.Decisions != target)
        {
            return;
        }

        var entries = S.Lives.Select(l => new LiveIndexEntry(l.LiveId, l.Lifecycle.Status, l.Lifecycle.CreatedAt, l.Lifecycle.StartedAt, l.LastEventSequence)).ToArray();
        if (entries.Length > 0)
        {
            await indexPushes.PushAsync(Tenant, RoomId, entries);
        }

        if (S.Decisions >= target && S.IndexedDecisions < target)
        {
            S.IndexedDecisions = target;
        }
    }

    /// <summary>
    /// Tells watching statistics grains about stored transitions, in order, one push run at a time (a decision and the
    /// pump may both ask); false when one could not be told (it stays queued, and the pump retries).
    /// </summary>
    private async Task<bool> PushStatsAsync()
    {
        while (_pushing is { } running)
        {
            if (!await running)
            {
                return false;
            }
        }

        if (_statsPushes is not { Count: > 0 })
        {
            return true;
        }

        _pushing = PushQueuedStatsAsync();
        try
        {
            return await _pushing;
        }
        finally
        {
            _pushing = null;
        }
    }

    private async Task<bool> PushQueuedStatsAsync()
    {
        while (_statsPushes is { } pushes && pushes.TryPeek(out var subject))
        {
            try
            {
                (_lastStats ??= new(StringComparer.Ordinal))[subject.Live.LiveId] = await Stats(subject.Live.LiveId).OnLifecycleAsync(subject);
            }
            catch (Exception ex)
            {
                LogPumpFailed(ex);
                return false;
            }

            pushes.Dequeue();
        }

        return true;
    }

    /// <summary>Coalesces the pump's changes: the next decision's write carries them, or this timer writes them.</summary>
    private void MarkUnsaved()
    {
        if (_unsaved)
        {
            return;
        }

        _unsaved = true;
        if (_saveTimer is null)
        {
            // One shot, re-armed when needed: an idle room runs no timer.
            _saveTimer = this.RegisterGrainTimer(
                static async (grain, _) =>
                {
                    if (grain._unsaved)
                    {
                        await grain.WriteAsync();
                    }
                },
                this,
                new GrainTimerCreationOptions(SaveDelay, Timeout.InfiniteTimeSpan));
        }
        else
        {
            _saveTimer.Change(SaveDelay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Ids at history positions [start, end), oldest first: saved pages from their grains, the rest from the tail.</summary>
    private async Task<List<string>> HistoryIdsAsync(long start, long end)
    {
        var ids = new List<string>((int)(end - start));
        var saved = S.HistorySaved;
        var tail = S.HistoryTail.ToArray();
        for (var page = start / PageSize; page * PageSize < Math.Min(end, saved); page++)
        {
            var pageIds = await HistoryPage(page).GetAsync();
            for (var position = Math.Max(start, page * PageSize); position < Math.Min(end, (page + 1) * PageSize); position++)
            {
                var index = (int)(position - (page * PageSize));
                if (index < pageIds.Length)
                {
                    ids.Add(pageIds[index]);
                }
            }
        }

        for (var position = Math.Max(start, saved); position < end; position++)
        {
            ids.Add(LiveIdOf(tail[position - saved]));
        }

        return ids;
    }

    private async Task<LiveDto> DecidedLiveAsync(string liveKey)
    {
        var liveId = LiveIdOf(liveKey);
        return Find(liveId) is { } owned
            ? Dto(owned)
            : await ArchivedAsync(liveId)
              ?? throw new InvalidOperationException($"Live {liveId} of room {RoomId} is neither in the room nor archived.");
    }

    private async Task<LiveDto?> ArchivedAsync(string liveId) => (await archives.ReadAsync(liveId, Tenant))?.Live;

    private static void RecordMetrics(RoomLive live, string eventType)
    {
        var lifecycle = live.Lifecycle;
        if (eventType == EventTypes.LiveStarted)
        {
            LiveGrainsMetrics.GoLives.Add(1);
            LiveGrainsMetrics.LivesActive.Add(1);
        }
        else if (eventType == EventTypes.LiveEnded && lifecycle.StartedAt is not null)
        {
            LiveGrainsMetrics.LivesActive.Add(-1);
            if (lifecycle.EndReason == EndReason.Superseded)
            {
                LiveGrainsMetrics.Takeovers.Add(1);
            }
        }
    }

    /// <summary>A live id without the <c>.room_id</c> that every live of this room ends with (what the state keeps).</summary>
    private static string LiveKey(string liveId) => liveId[..29];

    private string LiveIdOf(string liveKey) => liveKey + "." + RoomId;

    private void Watch(string liveId) => (_watched ??= new(StringComparer.Ordinal)).Add(liveId);

    private bool IsWatched(string liveId) => _watched?.Contains(liveId) == true;

    // The pump's queues are created when first needed: most rooms never have a watched live or an ended one in memory.
    private void QueueStatsPush(RoomLive live) => (_statsPushes ??= new()).Enqueue(Subject(live));

    private void QueueArchive(string liveId) => (_toArchive ??= new()).Enqueue(liveId);

    private void MarkArchived(string liveId) => (_archived ??= new(StringComparer.Ordinal)).Add(liveId);

    private ILiveStatsGrain Stats(string liveId) => GrainFactory.Get<ILiveStatsGrain>(liveId);

    private IRoomHistoryPageGrain HistoryPage(long page) =>
        GrainFactory.Get<IRoomHistoryPageGrain>(this.GetPrimaryKeyString() + "#" + page.ToString(CultureInfo.InvariantCulture));

    private LiveStatsSubject Subject(RoomLive live) =>
        new(Tenant, live.Lifecycle.Status, live.Lifecycle.OnAirBeforeLastResume, live.Lifecycle.OnAirSince, Dto(live));

    private LiveArchive Archive(RoomLive live) =>
        new(Tenant, Dto(live), live.Lifecycle.OnAir(clock.UtcNow), live.LastEventSequence, Trail(live));

    private LiveDto Dto(RoomLive live)
    {
        var l = live.Lifecycle;
        var duration = (long)l.OnAir(clock.UtcNow).TotalSeconds;
        var stats = _lastStats is { } lastStats && lastStats.TryGetValue(live.LiveId, out var last) ? last : StatsDto.Empty;
        var details = live.Details;
        var effective = live.Settings?.Effective ?? PresetSettings.Defaults;

        // A live without a title takes its room's (PRISM: the channel name), and its room's visibility unless set.
        return WithStreams(live, new LiveDto(
            live.LiveId, RoomId, live.Title ?? S.Title, l.Status, l.EndReason, l.CreatedAt, l.ScheduledStartTime,
            l.ReadyAt, l.StartedAt, l.PausedAt, l.EndedAt, duration, l.StartedBy, l.EndedBy,
            stats with { DurationSeconds = duration },
            details?.Description, details?.Metadata, details?.Visibility ?? S.Visibility, details?.CreatedBy ?? live.Transitions?.FirstOrDefault()?.By,
            UpdatedAt(live), l.ReadyBy, l.PausedBy, l.ResumedBy)
        {
            PresetId = live.Settings?.PresetId,
            ChatEnabledOverride = live.Settings?.Overrides?.ChatEnabled,
            MaxJoinLimitOverride = live.Settings?.Overrides?.MaxJoinLimit,
            RecordingEnabled = live.Settings?.Overrides?.RecordingEnabled,
            EffectiveChatEnabled = effective.ChatEnabled,
            EffectiveMaxJoinLimit = effective.MaxJoinLimit,
            EffectiveRecordingEnabled = effective.RecordingEnabled,
            Host = HostDto(live),
            Mode = live.Mode,
            WatchUrl = links.Value.WatchUrl(RoomId, live.LiveId),
            Playback = PlaybackStream(live) is { } streamId ? new PlaybackDto(links.Value.HlsUrl(streamId)) : null,
            IngestUrl = links.Value.IngestUrl(live.Mode),
        });
    }

    /// <summary>The last transition or edit (a transition's time is not stored twice: the room writes this state often).</summary>
    private static DateTimeOffset UpdatedAt(RoomLive live)
    {
        var at = live.Transitions is { Length: > 0 } trail ? DateTimeOffset.FromUnixTimeMilliseconds(trail[^1].AtMs) : live.Lifecycle.CreatedAt;
        return live.UpdatedAt is { } edited && edited > at ? edited : at;
    }

    private static string EncodeCursor(long position) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes("p:" + position.ToString(CultureInfo.InvariantCulture))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeCursor(string cursor, out long position)
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
            && long.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out position);
    }

    private void LogPumpFailed(Exception error) =>
        logger.LogWarning(error, "Room {RoomId}: background work (statistics, archive, history) failed; retrying", RoomId);

    private DomainError NotFound() => DomainError.NotFound($"Room '{RoomId}'");

    private RoomDto ToDto() => new(
        RoomId, S.Title, S.HostId, S.TakeoverPolicy, S.ReconnectWindowSeconds, Active()?.LiveId, S.CreatedAt, S.UpdatedAt,
        S.Description, S.Metadata, S.Visibility, S.CreatedBy, S.PresetId, S.CoHostIds ?? []);

    // ---- Host presence (issue 13) ----

    private static LiveHostDto HostDto(RoomLive live)
    {
        var host = live.Host;
        return new LiveHostDto(
            host?.State,
            host?.EnteredAtMs is { } entered ? DateTimeOffset.FromUnixTimeMilliseconds(entered) : null,
            host?.ExitedAtMs is { } exited ? DateTimeOffset.FromUnixTimeMilliseconds(exited) : null,
            live.Feeds?.Any(f => f.Publishing) == true && live.Lifecycle.Status != LiveStatus.Ended,
            host?.By);
    }

    /// <summary>The stream viewers play: one publishing now (the first fed), else the last that fed the live; null without ingest.</summary>
    private static string? PlaybackStream(RoomLive live) =>
        live.Feeds?.FirstOrDefault(f => f.Publishing)?.StreamId ?? live.StreamIds?.LastOrDefault();

    // ---- Presets and limits (issue 13) ----

    /// <summary>A 400 on <c>preset_id</c> when the tenant has no such preset (asked directly: creating a room is not the go-live path).</summary>
    private async Task<DomainError?> UnknownPresetAsync(string? presetId) =>
        presetId is null || (await GrainFactory.Get<IPresetRegistryGrain>(Tenant).GetAsync(presetId)).IsSuccess
            ? null
            : new DomainError(DomainErrorCode.ValidationFailed, $"No preset '{presetId}' exists.", "preset_id");

    /// <summary>
    /// The settings a new live starts from: the room's preset, else the tenant's default, read from the silo's cache
    /// (not the tenant's registry grain on every go-live), and the live's own overrides.
    /// </summary>
    private async Task<LiveSettings?> NewLiveSettingsAsync(LiveOverrides? overrides)
    {
        var preset = await presets.ResolveAsync(Tenant, S.PresetId);
        overrides = overrides == LiveOverrides.None ? null : overrides;
        return preset is null && overrides is null ? null : new LiveSettings(preset?.PresetId, preset?.Settings, overrides);
    }

    private static LiveSettings? WithOverrides(LiveSettings? settings, LiveOverrides? patch, LiveOverrideFields set)
    {
        if (patch is null || set == LiveOverrideFields.None)
        {
            return settings;
        }

        var overrides = (settings?.Overrides ?? LiveOverrides.None).With(patch, set);
        overrides = overrides == LiveOverrides.None ? null : overrides;
        return settings is null && overrides is null ? null : new LiveSettings(settings?.PresetId, settings?.Preset, overrides);
    }

    /// <summary>
    /// Changed overrides reach the live's statistics (which enforce the join limit and chat) before the answer, when
    /// they may be active; a statistics grain that is not active pulls them when it activates.
    /// </summary>
    private async Task PushSettingsAsync(RoomLive live)
    {
        if (!IsWatched(live.LiveId) || live.Lifecycle.Status is LiveStatus.Scheduled or LiveStatus.Ended)
        {
            return;
        }

        QueueStatsPush(live);
        try
        {
            await PushStatsAsync().WaitAsync(StatsPushWait);
        }
        catch (TimeoutException)
        {
            // The pump goes on trying; the silos learn the settings with their next flush meanwhile.
        }

        if (HasPumpWork())
        {
            Pump.Notify();
        }
    }
}

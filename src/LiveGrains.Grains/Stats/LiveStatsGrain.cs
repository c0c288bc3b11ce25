using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace LiveGrains.Grains.Stats;

/// <summary>
/// A live's statistics. Activity arrives in batches from the silos' pre-aggregators; the counters and the
/// viewer set are written behind every <see cref="StatsOptions.PersistIntervalSeconds"/> when changed, on
/// deactivation and at the end (then frozen). The lifecycle stays in <c>LiveGrain</c>'s own state; this grain
/// learns it from pushes on every transition and a pull when it activates.
/// </summary>
public sealed class LiveStatsGrain(
    [PersistentState("stats", LiveGrainsStorage.State)] IPersistentState<LiveStatsState> state,
    LiveGrainsClock clock,
    IOptions<StatsOptions> options,
    LiveViewerCounts viewerCounts,
    StatsWriteBudget writeBudget,
    ILogger<LiveStatsGrain> logger) : Grain, ILiveStatsGrain, IGrainMigrationParticipant
{
    private const string UnsavedMigrationKey = "livegrains.stats.unsaved";
    private const int MaxStatusEvents = 32;
    private const int MaxWriteAttempts = 5;
    // A silo that is stopping gracefully answers late (it is deactivating its grains); a handover missed here drops
    // that silo's acknowledged activity (its flush arrives after the freeze), so wait long. The end's answer does not
    // wait for this (the room waits at most 2 s for the push), only reads of this live's statistics do.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SubjectRefreshInterval = TimeSpan.FromSeconds(30);

    private readonly HashSet<ILiveActivityObserver> _silos = [];
    private readonly LinkedList<(long Sequence, LiveDto Live)> _statusEvents = new();
    private PresenceTracker _presence = null!;
    private LiveStatsSubject? _subject;
    private bool _dirty;
    private bool _subjectLoaded;
    private DateTimeOffset _subjectAt;

    // One timer, and only while there is something to sweep or write: a quiet live costs no timer turns (with
    // 10,000 lives, a sweep and a persist timer each were 15,000 turns a second; docs/profiling-joins.md).
    private IGrainTimer? _tick;

    // The tick sleeps while nothing changes: a live whose viewers only wait to expire needs no turn a second until the
    // first of them does (10,000s of lives with one join each ticked every second before; docs/benchmarks.md, run N).
    private static readonly TimeSpan MaxQuietTick = TimeSpan.FromSeconds(30);
    private bool _tickQuiet;
    private long _lastPersistAt = clock.Provider.GetTimestamp();

    // The audience as the tenant's lives index last took it (the "live now" order): pushed from the tick when it
    // changed, and again every IndexRefresh while non-zero, so an index shard that restarted catches up.
    private static readonly TimeSpan IndexRefresh = TimeSpan.FromSeconds(30);
    private long _indexedViewers = -1;
    private long _indexedAt;

    // Activity applied in memory and not yet in storage. Another activation of this live (a duplicate left by a
    // directory handoff while a silo stops, or one that read before the previous activation's last write) may
    // have written meanwhile; then the write fails on the ETag and what it stored is merged with these.
    private long _unsavedViews;
    private long _unsavedLikes;
    private long _unsavedChatMessages;
    private bool _released;
    private List<ActivityBatch>? _deferred;

    // The unique viewers of an ended live as stored, kept unparsed once the tracker is released: a late batch and a
    // merge with another activation's write count against it, so no viewer is lost or counted twice.
    private byte[] _frozenUnique = [];
    private readonly SemaphoreSlim _persisting = new(1, 1);

    // Sequences start at the activation's wall-clock ticks so that they only grow across reactivations (on any silo):
    // the real clock, not LiveGrainsClock, which a test may hold still while the grain is reactivated.
    private long _statusSequence = DateTime.UtcNow.Ticks;
    private long _statsVersion = DateTime.UtcNow.Ticks;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string LiveId => this.GetPrimaryKeyString();

    private LiveStatsState S => state.State;

    private long NowSecond => clock.UtcNow.ToUnixTimeSeconds();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _released = S.Frozen;
        _frozenUnique = S.Frozen ? S.Unique : [];
        _presence = S.Frozen
            ? new PresenceTracker(Math.Max(1, options.Value.ViewerTimeoutSeconds))
            : PresenceTracker.Restore(Math.Max(1, options.Value.ViewerTimeoutSeconds), S.Present, S.Unique, NowSecond);
        S.Present = [];
        S.Unique = [];
        AddStoredSilos(S.Silos);
        logger.LogDebug("Live {LiveId}: stats activated (stored: {Unique} unique, {Present} present, {Views} views, frozen {Frozen}, {Silos} silos, etag {ETag})",
            LiveId, S.Frozen ? _frozenUnique.Length / 8 : _presence.UniqueCount, _presence.ViewerCount, S.ViewCount, S.Frozen, _silos.Count, state.Etag);
        await LoadSubjectAsync(S.Tenant);
        EnsureTicking();

        // While a silo stops, its directory ranges move as its activations deactivate, so this activation may have read
        // the stats before the previous one's last write (on deactivation) landed, and it need not write itself for a
        // long time (then no conflict shows it). Read again once that write is likely and once it must have happened,
        // and take in what it stored.
        var window = TimeSpan.FromSeconds(Math.Max(1, options.Value.PredecessorWriteWindowSeconds));
        foreach (var due in new[] { TimeSpan.FromSeconds(Math.Min(2, window.TotalSeconds)), window })
        {
            this.RegisterGrainTimer(static (grain, _) => grain.ConfirmStoredAsync(), this, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan));
        }
    }

    /// <summary>
    /// Orleans 10 migrates an activation that still has queued requests when its silo shuts down: the new silo gets
    /// the state object as it is in memory instead of reading storage. Between writes the viewer sets live in the
    /// tracker only (the state holds them while a write serializes), so a migration carried none of them (CI, rolling
    /// restart: "120 distinct viewers got 202 joins but unique_viewer_count 60", the new activation restored 60 views
    /// and no viewer). Put them back into the state, as a write would, and hand over what is not stored yet.
    /// </summary>
    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        FillState();
        dehydrationContext.TryAddValue(UnsavedMigrationKey, new[] { _unsavedViews, _unsavedLikes, _unsavedChatMessages, _dirty ? 1L : 0L });
        logger.LogDebug("Live {LiveId}: stats migrating ({Unique} unique, {Views} views, etag {ETag})", LiveId, S.Unique.Length / 8, S.ViewCount, state.Etag);
    }

    /// <summary>The migrated state is restored by <see cref="OnActivateAsync"/> like a read; this takes what was not stored.</summary>
    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue<long[]>(UnsavedMigrationKey, out var unsaved) && unsaved is { Length: 4 })
        {
            (_unsavedViews, _unsavedLikes, _unsavedChatMessages) = (unsaved[0], unsaved[1], unsaved[2]);
            _dirty = unsaved[3] != 0;
        }
    }

    /// <summary>Re-reads the stored stats and merges them when another activation wrote since this one read or wrote.</summary>
    private async Task ConfirmStoredAsync()
    {
        await _persisting.WaitAsync();
        try
        {
            var read = state.Etag;
            await MergeStoredAsync();
            if (!string.Equals(read, state.Etag, StringComparison.Ordinal))
            {
                logger.LogWarning("Live {LiveId}: a previous activation wrote the stats after this one read them; merged what it stored", LiveId);
                _dirty = true;
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Live {LiveId}: re-reading the stored stats failed; a later write still merges on conflict", LiveId);
        }
        finally
        {
            _persisting.Release();
        }

        EnsureTicking();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Nothing accepted may be lost on a graceful stop: retry a failed write while the deactivation may run.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PersistIfChangedAsync();
                logger.LogDebug("Live {LiveId}: stats deactivating ({Reason}); stored {Unique} unique, {Views} views, etag {ETag}",
                    LiveId, reason.ReasonCode, _released ? S.UniqueViewerCount : _presence.UniqueCount, S.ViewCount, state.Etag);
                return;
            }
            catch (Exception) when (attempt < MaxWriteAttempts && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), CancellationToken.None);
            }
        }
    }

    public async Task<Result<StatsDto>> GetStatsAsync(string tenant)
    {
        await LoadSubjectAsync(tenant);
        if (_subject is null || !string.Equals(_subject.Tenant, tenant, StringComparison.Ordinal))
        {
            return DomainError.NotFound("Live");
        }

        Sweep();
        EnsureTicking();
        return Snapshot();
    }

    public async Task<LiveActivityGate> AttachAsync(string tenant, ILiveActivityObserver silo)
    {
        await LoadSubjectAsync(tenant);
        var gate = Gate();
        if (gate.Error is null)
        {
            AddSilo(silo);
        }

        EnsureTicking();
        return gate;
    }

    public Task<LiveActivityGate> ApplyAsync(ActivityBatch batch, ILiveActivityObserver silo)
    {
        if (S.Frozen)
        {
            // Only a silo that missed the end can get here (stopping or unreachable while the live closed, or its flush
            // was in flight to an activation that went away). Its buffer holds activity acknowledged while the live was
            // open: it goes into the totals; the presence stays as frozen.
            ApplyLate(batch);
            return Task.FromResult(Gate());
        }

        AddSilo(silo);
        Apply(batch);
        EnsureTicking();
        return Task.FromResult(Gate());
    }

    public async Task<ActivityAdmission> AdmitAsync(string tenant, ActivityBatch batch, ILiveActivityObserver silo)
    {
        await LoadSubjectAsync(tenant);
        var gate = Gate();
        if (gate.Error is not null || S.Frozen)
        {
            return new ActivityAdmission(gate, 0);
        }

        AddSilo(silo);

        // Decided in one synchronous turn (no await from here on): concurrent admissions from every silo are applied
        // one after another, so the audience never passes the limit, whatever the concurrency.
        var rejected = 0;
        if (gate.MaxJoinLimit is { } limit)
        {
            var second = NowSecond;
            _presence.Sweep(second);
            var admitted = new List<ulong>(batch.Ops.Length);
            var present = _presence.ViewerCount;
            var joining = new HashSet<ulong>();
            foreach (var op in batch.Ops)
            {
                var kind = op & ~ViewerOps.HashMask;
                var hash = op & ViewerOps.HashMask;
                if (kind == ViewerOps.Leave)
                {
                    if (_presence.IsPresent(hash) || joining.Remove(hash))
                    {
                        present--;
                    }

                    admitted.Add(op);
                    continue;
                }

                if (!_presence.IsPresent(hash) && !joining.Contains(hash))
                {
                    if (present >= limit)
                    {
                        rejected++;
                        continue;
                    }

                    joining.Add(hash);
                    present++;
                }

                admitted.Add(op);
            }

            batch = batch with { Ops = [.. admitted] };
        }

        Apply(batch);
        EnsureTicking();
        return new ActivityAdmission(Gate(), rejected);
    }

    public async Task<StatsDto> OnLifecycleAsync(LiveStatsSubject subject)
    {
        await ApplySubjectAsync(subject, statusEvent: true);
        return Snapshot();
    }

    private async Task ApplySubjectAsync(LiveStatsSubject subject, bool statusEvent)
    {
        var before = _subject is null ? null : Gate();
        _subject = subject;
        _subjectLoaded = true;
        _subjectAt = clock.UtcNow;
        S.Tenant ??= subject.Tenant;
        if (statusEvent)
        {
            _statusEvents.AddLast((++_statusSequence, subject.Live));
            if (_statusEvents.Count > MaxStatusEvents)
            {
                _statusEvents.RemoveFirst();
            }
        }

        if (subject.Status == LiveStatus.Ended && !S.Frozen)
        {
            await FreezeAsync();
        }
        else if (before is not null && Gate() is { Error: null } after && (after.MaxJoinLimit != before.MaxJoinLimit || after.ChatDisabled != before.ChatDisabled))
        {
            await TellSilosAsync(after);
        }

        Changed();
        EnsureTicking();
    }

    /// <summary>
    /// A changed join limit or chat setting reaches every silo's cached gate now rather than with its next flush; a silo
    /// that cannot be told learns it from its next flush or attach (at most one flush interval for a silo with traffic).
    /// </summary>
    private async Task TellSilosAsync(LiveActivityGate gate)
    {
        await Task.WhenAll(_silos.Select(async silo =>
        {
            try
            {
                await silo.GateChangedAsync(LiveId, gate).WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex)
            {
                logger.LogDebug(ex, "Live {LiveId}: a silo did not take the changed settings; its next flush brings them", LiveId);
            }
        }).ToList());
    }

    public async Task<Result<LiveEventsPoll>> PollEventsAsync(string tenant, long afterStatusSequence, long afterStatsVersion, TimeSpan wait)
    {
        await LoadSubjectAsync(tenant);
        if (_subject is null || !string.Equals(_subject.Tenant, tenant, StringComparison.Ordinal))
        {
            return DomainError.NotFound("Live");
        }

        if (afterStatusSequence >= 0 && afterStatusSequence >= _statusSequence && afterStatsVersion >= _statsVersion && wait > TimeSpan.Zero)
        {
            try
            {
                await _changed.Task.WaitAsync(wait);
            }
            catch (TimeoutException)
            {
            }
        }

        var events = afterStatusSequence < 0
            ? []
            : _statusEvents.Where(e => e.Sequence > afterStatusSequence).Select(e => e.Live).ToArray();
        return new LiveEventsPoll(_statusSequence, events, _statsVersion, Snapshot());
    }

    /// <summary>
    /// Pulls the lifecycle from the live (which asks its room while the room owns it; the room then pushes every later
    /// transition here). <paramref name="tenant"/> is the caller's: a live of another tenant is simply not found.
    /// </summary>
    private async Task LoadSubjectAsync(string? tenant)
    {
        if (!_subjectLoaded && tenant is not null
            && await GrainFactory.Get<ILiveGrain>(LiveId).GetStatsSubjectAsync(tenant) is { } subject)
        {
            // An end decided while this grain was away (a push lost to a crash) freezes what we have.
            await ApplySubjectAsync(subject, statusEvent: false);
        }
    }

    /// <summary>
    /// A push lost to a crash of the room's silo must not leave these statistics open for good: while the live is not
    /// ended, pull the lifecycle again now and then (this grain only runs while the live has an audience).
    /// </summary>
    private async Task RefreshSubjectAsync()
    {
        if (_subject is { Status: not LiveStatus.Ended } current && clock.UtcNow - _subjectAt >= SubjectRefreshInterval
            && await GrainFactory.Get<ILiveGrain>(LiveId).GetStatsSubjectAsync(current.Tenant) is { } subject)
        {
            await ApplySubjectAsync(subject, statusEvent: subject.Status != current.Status);
        }
    }

    private LiveActivityGate Gate() => _subject switch
    {
        null => new LiveActivityGate(null, DomainError.NotFound("Live")),
        { Status: LiveStatus.Ended } s => new LiveActivityGate(s.Tenant, StatsErrors.Ended),
        { Status: LiveStatus.Scheduled } s => new LiveActivityGate(s.Tenant, StatsErrors.Scheduled),
        var s => new LiveActivityGate(s.Tenant, null, s.Live.EffectiveMaxJoinLimit, !s.Live.EffectiveChatEnabled),
    };

    /// <summary>
    /// Activity acknowledged before the end that reached this grain after it froze: its views, likes and chat messages
    /// count, and its viewers not seen before join the unique set (kept with the frozen counts, so a viewer counts
    /// once). The frozen audience and peak do not change.
    /// </summary>
    private void ApplyLate(ActivityBatch batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        var late = new PresenceTracker(_presence.TimeoutSeconds);
        var second = clock.UtcNow.ToUnixTimeSeconds();
        var views = batch.Ops.Count(op => late.Apply(op, second).View);
        if (_released)
        {
            var unique = HashSet64.FromBytes(_frozenUnique);
            S.UniqueViewerCount += ViewerOps.AddViewers(unique, batch.Ops);
            _frozenUnique = unique.ToBytes();
        }
        else
        {
            // Frozen but the set not yet stored (the freeze's write is being merged): the tracker still holds it.
            _presence.AddUnique(batch.Ops);
        }

        AddTotals(views, batch);
        logger.LogWarning("Live {LiveId}: counted {Ops} ops flushed after the end (acknowledged before it)", LiveId, batch.Ops.Length);
        Changed();
        EnsureTicking();
    }

    private void Apply(ActivityBatch batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        if (_deferred is not null)
        {
            // A stored state is being merged in: apply this right after it.
            _deferred.Add(batch);
            return;
        }

        var now = clock.UtcNow;
        var second = now.ToUnixTimeSeconds();
        _presence.Sweep(second);
        var views = 0;
        foreach (var op in batch.Ops)
        {
            var (delta, view) = _presence.Apply(op, second);
            if (view)
            {
                views++;
            }

            if (delta > 0 && _presence.ViewerCount > S.PeakViewerCount)
            {
                S.PeakViewerCount = _presence.ViewerCount;
                S.PeakAt = now;
            }
        }

        AddTotals(views, batch);
        Changed();
    }

    /// <summary>The running totals of a batch (views, likes, chat messages), also counted as not yet stored.</summary>
    private void AddTotals(int views, ActivityBatch batch)
    {
        S.ViewCount += views;
        S.LikeCount += batch.Likes;
        S.ChatMessageCount += batch.ChatMessages;
        _unsavedViews += views;
        _unsavedLikes += batch.Likes;
        _unsavedChatMessages += batch.ChatMessages;
        _dirty = true;
    }

    /// <summary>
    /// Starts the tick when there are viewers who may expire or changes to write, and wakes a sleeping one when a change
    /// waits; the tick stops itself, or sleeps until the next expiry while nothing changes.
    /// </summary>
    private void EnsureTicking()
    {
        if (!NeedsTicking)
        {
            return;
        }

        if (_tick is null)
        {
            _tick = this.RegisterGrainTimer(static (grain, ct) => grain.TickAsync(ct), this, new GrainTimerCreationOptions(TickPeriod, TickPeriod));
            _tickQuiet = false;
        }
        else if (_tickQuiet && _dirty)
        {
            _tick.Change(TickPeriod, TickPeriod);
            _tickQuiet = false;
        }
    }

    private TimeSpan TickPeriod => TimeSpan.FromSeconds(Math.Min(1, Math.Max(0.1, options.Value.PersistIntervalSeconds)));

    private bool NeedsTicking => _dirty || (!_released && !S.Frozen && _presence.ViewerCount > 0);

    /// <summary>Expiry once a real second; a write behind every <see cref="StatsOptions.PersistIntervalSeconds"/> when changed.</summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        _tickQuiet = false; // a sleeping timer that fires runs at the period again
        Sweep();
        try
        {
            await RefreshSubjectAsync();
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "Live {LiveId}: refreshing the lifecycle failed; trying again later", LiveId);
            _subjectAt = clock.UtcNow;
        }

        IndexViewers();
        if (_dirty && clock.Provider.GetElapsedTime(_lastPersistAt) >= TimeSpan.FromSeconds(options.Value.PersistIntervalSeconds) - TimeSpan.FromMilliseconds(1))
        {
            await WriteBehindAsync(cancellationToken);
        }

        if (_tick is not { } tick)
        {
            return;
        }

        if (!NeedsTicking)
        {
            _tick = null;
            tick.Dispose();
        }
        else if (!_dirty)
        {
            // Only expiries to wait for (and the lifecycle refresh, at most MaxQuietTick apart): sleep until the first.
            var due = _presence.NextExpiry() is { } expiry ? TimeSpan.FromSeconds(expiry - NowSecond) : TickPeriod;
            if (due > TickPeriod)
            {
                tick.Change(due < MaxQuietTick ? due : MaxQuietTick, TickPeriod);
                _tickQuiet = true;
            }
        }
    }

    /// <summary>
    /// The periodic write, within the silo's <see cref="StatsWriteBudget"/>: when the store is behind, the changes stay
    /// in memory (dirty) and the next tick tries again, so the loss bound on a crash grows with the backlog instead of
    /// the backlog growing in the storage client. Only this write asks; the end's, a deactivation's and a conflict's
    /// retry do not wait.
    /// </summary>
    private async Task WriteBehindAsync(CancellationToken cancellationToken)
    {
        var bytes = WriteBytes();
        if (!await writeBudget.ReserveAsync(bytes, cancellationToken))
        {
            LiveGrainsMetrics.StatsWritesDeferred.Add(1);
            logger.LogDebug("Live {LiveId}: stats write of about {Bytes} B put off to a later tick (the silo's write budget is spent)", LiveId, bytes);
            return;
        }

        try
        {
            await PersistIfChangedAsync();
        }
        finally
        {
            writeBudget.Release(bytes);
        }
    }

    /// <summary>About what a write of this live's state sends: the viewer sets (12 B a present viewer, 8 B a unique one) and the rest.</summary>
    private long WriteBytes() =>
        (_released ? _frozenUnique.Length : (12L * _presence.ViewerCount) + (8L * _presence.UniqueCount)) + 512 + (128L * _silos.Count);

    /// <summary>
    /// Hands the audience to the silo's pump to the tenant's lives index (<see cref="LiveViewerCounts"/>; soft state there:
    /// a failure or an index restart is repaired by a later round). Runs on the tick, at most once a second, so the
    /// listing is at most about 1.5 s behind the stats.
    /// </summary>
    private void IndexViewers()
    {
        if (_subject is not { } subject || _released || !Ids.TryGetRoomOfLive(LiveId, out var roomId))
        {
            return;
        }

        var count = _presence.ViewerCount;
        var now = clock.Provider.GetTimestamp();
        if (count == _indexedViewers && (count == 0 || clock.Provider.GetElapsedTime(_indexedAt, now) < IndexRefresh))
        {
            return;
        }

        viewerCounts.Publish(subject.Tenant, roomId, LiveId, count);
        _indexedViewers = count;
        _indexedAt = now;
    }

    private void Sweep()
    {
        if (!S.Frozen && _presence.Sweep(NowSecond) > 0)
        {
            _dirty = true;
            Changed();
        }
    }

    /// <summary>Closes every silo's buffer (taking what they accepted), applies it, then freezes and persists.</summary>
    private async Task FreezeAsync()
    {
        var gate = new LiveActivityGate(_subject?.Tenant, StatsErrors.Ended);
        var closing = _silos.Select(async silo =>
        {
            try
            {
                return await silo.CloseAsync(LiveId, gate).WaitAsync(CloseTimeout);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Live {LiveId}: a silo did not hand over its activity buffer at the end", LiveId);
                return ActivityBatch.Empty;
            }
        }).ToList();
        var handedOver = 0;
        foreach (var drained in await Task.WhenAll(closing))
        {
            handedOver += drained.Ops.Length;
            Apply(drained);
        }

        logger.LogDebug("Live {LiveId}: stats freezing; {Silos} silos handed over {Ops} ops; {Unique} unique, {Views} views",
            LiveId, closing.Count, handedOver, _presence.UniqueCount, S.ViewCount);

        _silos.Clear();
        Sweep();
        S.ViewerCount = _presence.ViewerCount;
        S.UniqueViewerCount = _presence.UniqueCount;
        S.Frozen = true;
        if (state.RecordExists || S.ViewCount > 0 || S.LikeCount > 0 || S.ChatMessageCount > 0)
        {
            // The viewer set is released only once the frozen counts are stored: a conflicting write merges it.
            _dirty = true;
            await PersistIfChangedAsync();
        }
        else
        {
            ReleasePresence();
        }
    }

    /// <summary>A silo that may buffer accepted activity; persisted so that a later activation closes it at the end.</summary>
    private void AddSilo(ILiveActivityObserver silo)
    {
        if (_silos.Add(silo))
        {
            _dirty = true;
        }
    }

    private void AddStoredSilos(string[]? silos)
    {
        foreach (var id in silos ?? [])
        {
            try
            {
                _silos.Add(GrainFactory.GetGrain(GrainId.Parse(id)).AsReference<ILiveActivityObserver>());
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Live {LiveId}: ignoring stored silo {Silo}", LiveId, id);
            }
        }
    }

    private void ReleasePresence()
    {
        _presence.Release();
        _released = true;
    }

    private async Task PersistIfChangedAsync()
    {
        await _persisting.WaitAsync();
        try
        {
            if (!_dirty)
            {
                return;
            }

            _lastPersistAt = clock.Provider.GetTimestamp();
            for (var attempt = 1; ; attempt++)
            {
                _dirty = false;
                var (views, likes, chatMessages) = (_unsavedViews, _unsavedLikes, _unsavedChatMessages);
                FillState();
                try
                {
                    var (presentBytes, uniqueBytes, readEtag) = (S.Present.Length, S.Unique.Length, state.Etag);
                    await state.WriteStateAsync();
                    logger.LogDebug("Live {LiveId}: stats written ({PresentBytes} B present, {UniqueBytes} B unique, {Views} views, frozen {Frozen}, etag {From} -> {ETag})",
                        LiveId, presentBytes, uniqueBytes, S.ViewCount, S.Frozen, readEtag, state.Etag);
                    if (S.Frozen)
                    {
                        _frozenUnique = S.Unique;
                    }

                    _unsavedViews -= views;
                    _unsavedLikes -= likes;
                    _unsavedChatMessages -= chatMessages;
                    break;
                }
                catch (Exception ex) when (IsConflict(ex) && attempt < MaxWriteAttempts)
                {
                    // Another activation of this live wrote since this one read: take what it stored and add ours.
                    _dirty = true;
                    logger.LogWarning("Live {LiveId}: another activation wrote the stats; merging what it stored (attempt {Attempt})", LiveId, attempt);
                    await MergeStoredAsync();
                }
                catch (Exception ex)
                {
                    _dirty = true;
                    logger.LogWarning(ex, "Live {LiveId}: writing stats failed; retrying on the next tick", LiveId);
                    throw;
                }
                finally
                {
                    // The arrays only exist to be written; holding them would double the set's memory.
                    S.Present = [];
                    S.Unique = [];
                }
            }

            if (S.Frozen && !_released)
            {
                ReleasePresence();
            }
        }
        finally
        {
            _persisting.Release();
        }
    }

    /// <summary>
    /// Puts what the tracker and the silo list hold into the state, for a write or a migration: the audience, the
    /// silos to close at the end and the viewer sets (the present map only while the live is open).
    /// </summary>
    private void FillState()
    {
        if (!_released)
        {
            S.ViewerCount = _presence.ViewerCount;
            S.UniqueViewerCount = Math.Max(S.UniqueViewerCount, _presence.UniqueCount);
        }

        S.Silos = S.Frozen ? [] : [.. _silos.Select(silo => silo.GetGrainId().ToString())];
        S.Present = S.Frozen ? [] : _presence.PresentBytes();
        S.Unique = _released ? _frozenUnique : _presence.UniqueBytes();
    }

    /// <summary>
    /// Re-reads the stored stats (and ETag) and adds what this activation holds and storage does not: the unsaved
    /// counters, the union of the viewer sets, the higher peak. Batches arriving meanwhile wait and apply after.
    /// </summary>
    private async Task MergeStoredAsync()
    {
        var mine = S;
        _deferred = [];
        try
        {
            await state.ReadStateAsync();
            var stored = S;
            if (!_released)
            {
                _presence.Merge(stored.Present, stored.Unique, NowSecond);
            }
            else
            {
                // Both ended: unite the viewer sets (each activation may have seen viewers the other did not).
                var unique = HashSet64.FromBytes(_frozenUnique);
                foreach (var hash in HashSet64.FromBytes(stored.Unique).Keys())
                {
                    unique.Add(hash);
                }

                _frozenUnique = unique.ToBytes();
                stored.UniqueViewerCount = Math.Max(stored.UniqueViewerCount, unique.Count);
            }

            if (!stored.Frozen)
            {
                AddStoredSilos(stored.Silos);
            }

            stored.Present = [];
            stored.Unique = [];
            stored.ViewCount += _unsavedViews;
            stored.LikeCount += _unsavedLikes;
            stored.ChatMessageCount += _unsavedChatMessages;
            if (mine.PeakViewerCount > stored.PeakViewerCount)
            {
                stored.PeakViewerCount = mine.PeakViewerCount;
                stored.PeakAt = mine.PeakAt;
            }

            if (!_released && _presence.ViewerCount > stored.PeakViewerCount)
            {
                stored.PeakViewerCount = _presence.ViewerCount;
                stored.PeakAt = clock.UtcNow;
            }

            stored.UniqueViewerCount = Math.Max(stored.UniqueViewerCount, mine.UniqueViewerCount);
            if (mine.Frozen && !stored.Frozen)
            {
                stored.Frozen = true;
                stored.ViewerCount = mine.ViewerCount;
            }
        }
        finally
        {
            var deferred = _deferred;
            _deferred = null;
            foreach (var batch in deferred)
            {
                if (!S.Frozen)
                {
                    Apply(batch);
                }
                else
                {
                    ApplyLate(batch);
                }
            }

            Changed();
        }
    }

    private static bool IsConflict(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is InconsistentStateException)
            {
                return true;
            }
        }

        return false;
    }

    private StatsDto Snapshot()
    {
        var viewers = S.Frozen ? S.ViewerCount : _presence.ViewerCount;
        var unique = _released ? S.UniqueViewerCount : Math.Max(S.Frozen ? S.UniqueViewerCount : 0, _presence.UniqueCount);
        return new StatsDto(viewers, S.PeakViewerCount, S.PeakAt, unique, S.ViewCount, S.LikeCount, S.ChatMessageCount, DurationSeconds());
    }

    private long DurationSeconds()
    {
        if (_subject is not { } s)
        {
            return 0;
        }

        var onAir = s.OnAirBeforeLastResume;
        if (s.Status == LiveStatus.Live && s.OnAirSince is { } since && clock.UtcNow > since)
        {
            onAir += clock.UtcNow - since;
        }

        return (long)onAir.TotalSeconds;
    }

    private void Changed()
    {
        _statsVersion++;
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}

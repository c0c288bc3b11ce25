using LiveGrains.Abstractions;
using LiveGrains.Grains.Lives;

namespace LiveGrains.Grains.Rooms;

/// <summary>
/// The room's ingest decisions (docs/ingest.md): which live a publishing stream feeds, when a live fed by several
/// streams (primary and backup) pauses or ends, and which streams must hear that their live closed. Every decision goes
/// through the room's one write funnel (<see cref="CommitAsync"/>), like go-live and the transitions.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>Pending detaches the pump delivered; they leave the state with the next write.</summary>
    private HashSet<IngestDetach>? _detached;

    public async Task<Result<IngestLiveResult>> IngestPublishAsync(IngestPublishCommand command)
    {
        if (!Present)
        {
            return NotFound();
        }

        var now = clock.UtcNow;
        var changed = new List<(RoomLive, string)>(2);
        var bound = command.BoundLiveId is { } boundId ? Find(boundId) : null;

        // The bound live unless it has ended (then the room's rules, as for an unbound stream: Gcore keeps a finished
        // broadcast's streams usable); else the live on air (a backup joins the primary's); else the earliest
        // scheduled or ready one; else a new one.
        var target = bound is { Lifecycle.Status: not LiveStatus.Ended } ? bound : Active() ?? EarliestPending();
        var created = false;
        if (target is null)
        {
            target = AddLive(null, null, startedBy: command.By, start: true, now, changed);
            created = true;
        }
        else if (target.Lifecycle.Status is LiveStatus.Scheduled or LiveStatus.Ready)
        {
            if (RefuseTakeover() is { } refused)
            {
                return refused;
            }

            Supersede(Active(), command.By, now, changed);
            target = Change(target, LiveStateMachine.Apply(target.Lifecycle, new LiveCommand(LiveCommandKind.Start, command.By), now), now, changed);
        }
        else if (target.Lifecycle.Status == LiveStatus.Paused)
        {
            target = Change(target, LiveStateMachine.Apply(target.Lifecycle, new LiveCommand(LiveCommandKind.Resume, command.By), now), now, changed);
        }

        target = SetFeed(target, command.StreamId, publishing: true);
        await CommitAsync(changed, now);
        return new IngestLiveResult(Dto(target), created);
    }

    public async Task<Result<LiveDto?>> IngestStoppedAsync(IngestStopCommand command)
    {
        if (!S.Exists || !IsOurs(command.LiveId))
        {
            return DomainError.NotFound("Live");
        }

        if (Find(command.LiveId) is not { } live || live.Lifecycle.Status == LiveStatus.Ended)
        {
            return Result<LiveDto?>.Ok(null); // ended already (and maybe archived): nothing left to decide
        }

        var feeds = (live.Feeds ?? []).Where(f => f.StreamId != command.StreamId).ToList();
        if (command.Kind == IngestStopKind.Disconnected)
        {
            // Still a feed: its window is open and its publisher may come back.
            feeds.Add(new IngestFeed(command.StreamId, Publishing: false));
        }

        live = Replace(live with { Feeds = feeds.Count == 0 ? null : [.. feeds] });
        var now = clock.UtcNow;
        var changed = new List<(RoomLive, string)>(1);
        if (live.Lifecycle.IsActive && feeds.Count == 0 && command.Kind != IngestStopKind.Disconnected)
        {
            var reason = command.Kind == IngestStopKind.WindowPassed ? EndReason.ReconnectTimeout : EndReason.Ended;
            live = Change(live, LiveStateMachine.Apply(live.Lifecycle, new LiveCommand(LiveCommandKind.End, command.By, reason), now), now, changed);
        }
        else if (live.Lifecycle.Status == LiveStatus.Live && !feeds.Any(f => f.Publishing))
        {
            // A backup that still publishes keeps the live on air (Gcore's backup_live); only when none does it pauses.
            live = Change(live, LiveStateMachine.Apply(live.Lifecycle, new LiveCommand(LiveCommandKind.Pause, "ingest"), now), now, changed);
        }

        await CommitAsync(changed, now);
        return Dto(live);
    }

    public async Task<Result<bool>> BindStreamAsync(string streamId, string? liveId, string? previousLiveId)
    {
        if (!Present)
        {
            return NotFound();
        }

        RoomLive? live = null;
        if (liveId is not null)
        {
            if (!IsOurs(liveId) || Find(liveId) is not { } found)
            {
                return IsOurs(liveId) && await ArchivedAsync(liveId) is not null
                    ? new DomainError(DomainErrorCode.LiveEnded, "The live has ended; bind the stream to a live that can still go on air.")
                    : new DomainError(DomainErrorCode.ValidationFailed, $"'{liveId}' is not a live of room '{RoomId}'.", "live_id");
            }

            if (found.Lifecycle.Status == LiveStatus.Ended)
            {
                return new DomainError(DomainErrorCode.LiveEnded, "The live has ended; bind the stream to a live that can still go on air.");
            }

            live = found;
        }

        // Off the previous live's stream_ids unless it fed that live (then it stays in its history).
        if (previousLiveId is not null && previousLiveId != liveId && Find(previousLiveId) is { StreamIds: { } ids } previous
            && ids.Contains(streamId) && previous.Feeds?.Any(f => f.StreamId == streamId) != true)
        {
            Replace(previous with { StreamIds = ids.Length == 1 ? null : [.. ids.Where(id => id != streamId)] });
        }

        if (live is not null && live.StreamIds?.Contains(streamId) != true)
        {
            Replace(live with { StreamIds = [.. live.StreamIds ?? [], streamId] });
        }

        // Not a transition: no event, one write.
        await WriteAsync();
        return true;
    }

    /// <summary>The earliest scheduled or ready live: by scheduled start time, then by creation.</summary>
    private RoomLive? EarliestPending() =>
        S.Lives.Where(l => l.Lifecycle.Status is LiveStatus.Scheduled or LiveStatus.Ready)
            .OrderBy(l => l.Lifecycle.ScheduledStartTime ?? l.Lifecycle.CreatedAt)
            .ThenBy(l => l.Lifecycle.CreatedAt)
            .FirstOrDefault();

    /// <summary>Makes the stream a feed of <paramref name="live"/> (and of no other live) and lists it in stream_ids.</summary>
    private RoomLive SetFeed(RoomLive live, string streamId, bool publishing)
    {
        foreach (var other in S.Lives.Where(l => l.LiveId != live.LiveId && l.Feeds?.Any(f => f.StreamId == streamId) == true).ToList())
        {
            var rest = other.Feeds!.Where(f => f.StreamId != streamId).ToArray();
            Replace(other with { Feeds = rest.Length == 0 ? null : rest });
        }

        var feeds = (live.Feeds ?? []).Where(f => f.StreamId != streamId).Append(new IngestFeed(streamId, publishing)).ToArray();
        var streamIds = live.StreamIds?.Contains(streamId) == true ? live.StreamIds : [.. live.StreamIds ?? [], streamId];
        return Replace(live with { Feeds = feeds, StreamIds = streamIds });
    }

    private RoomLive Replace(RoomLive live)
    {
        S.Lives[S.Lives.FindIndex(l => l.LiveId == live.LiveId)] = live;
        return live;
    }

    /// <summary>
    /// Called by every transition: a live that ends hands its feeds to <see cref="RoomState.PendingDetaches"/>, in the
    /// same write as the end, so each of those streams hears it (and its publisher is dropped) even if this silo dies.
    /// </summary>
    private RoomLive DetachFeedsIfEnded(RoomLive live)
    {
        if (live.Lifecycle.Status != LiveStatus.Ended || live.Feeds is not { Length: > 0 } feeds)
        {
            return live;
        }

        foreach (var feed in feeds)
        {
            // The decision being made is the next one: CommitAsync counts it before its write.
            S.PendingDetaches.Add(new IngestDetach(feed.StreamId, live.LiveId, S.Decisions + 1));
        }

        return live with { Feeds = null };
    }

    private bool HasDetachWork() => S.PendingDetaches.Count > (_detached?.Count ?? 0);

    /// <summary>Tells each stream whose live closed (stored decisions only); idempotent on the stream's side.</summary>
    private async Task DeliverDetachesAsync()
    {
        var due = S.PendingDetaches.Where(d => d.Decision <= _storedDecisions && _detached?.Contains(d) != true).ToList();
        if (due.Count == 0)
        {
            return;
        }

        await Task.WhenAll(due.Select(async detach =>
        {
            await GrainFactory.Get<IStreamGrain>(detach.StreamId).LiveClosedAsync(detach.LiveId);
            (_detached ??= []).Add(detach);
        }));
        MarkUnsaved();
    }

    private void ForgetDeliveredDetaches()
    {
        if (_detached is { Count: > 0 } detached)
        {
            S.PendingDetaches.RemoveAll(detached.Contains);
            detached.Clear();
        }
    }

    private static LiveDto WithStreams(RoomLive live, LiveDto dto) => dto with { StreamIds = live.StreamIds ?? [] };
}

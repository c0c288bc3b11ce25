using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Rooms;

/// <summary>
/// Restream destinations (docs/ingest.md "Destinations"). The room owns them because their status follows its lives:
/// <see cref="SyncDestinations"/> runs inside every decision's <see cref="CommitAsync"/>, so a status-only destination
/// turns online or offline in the same write (and with its event in the same outbox) as the go-live or end that caused
/// it. A destination with a url is pushed by the media server, whose restream script reports each push's status here.
/// </summary>
public sealed partial class RoomGrain
{
    public async Task<Result<DestinationDto>> CreateDestinationAsync(CreateDestinationCommand command)
    {
        if (!Present)
        {
            return NotFound();
        }

        if (S.Destinations.Count >= DestinationLimits.MaxPerRoom)
        {
            return new DomainError(
                DomainErrorCode.ValidationFailed, $"A room has at most {DestinationLimits.MaxPerRoom} destinations; delete one first.", "room_id");
        }

        var now = clock.UtcNow;
        var destination = new RoomDestination(
            DestinationIds.New(now, RoomId), command.Type, NullIfEmpty(command.Url), NullIfEmpty(command.StreamKey),
            NullIfEmpty(command.BroadcasterId), NullIfEmpty(command.BroadcasterLogin), NullIfEmpty(command.ThumbnailUrl),
            command.Enabled, DestinationStatus.Offline, now, null, null, now, now, Revision: 1, LastEventSequence: 0);
        S.Destinations.Add(destination);

        // A status-only destination added while a live is on air is online at once.
        await CommitDestinationsAsync(now);
        return ToDestinationDto(FindDestination(destination.DestinationId)!);
    }

    public Task<Result<DestinationDto[]>> ListDestinationsAsync() =>
        Task.FromResult(Present
            ? Result<DestinationDto[]>.Ok([.. S.Destinations.Select(ToDestinationDto)])
            : Result<DestinationDto[]>.Fail(NotFound()));

    public Task<Result<DestinationDto>> GetDestinationAsync(string destinationId) =>
        Task.FromResult(Present && FindDestination(destinationId) is { } destination
            ? Result<DestinationDto>.Ok(ToDestinationDto(destination))
            : Result<DestinationDto>.Fail(DestinationNotFound()));

    public async Task<Result<DestinationDto>> UpdateDestinationAsync(string destinationId, UpdateDestinationCommand command)
    {
        if (!Present || FindDestination(destinationId) is not { } destination)
        {
            return DestinationNotFound();
        }

        var now = clock.UtcNow;
        var updated = destination with
        {
            Url = command.Url is null ? destination.Url : NullIfEmpty(command.Url),
            StreamKey = command.StreamKey is null ? destination.StreamKey : NullIfEmpty(command.StreamKey),
            BroadcasterId = command.BroadcasterId is null ? destination.BroadcasterId : NullIfEmpty(command.BroadcasterId),
            BroadcasterLogin = command.BroadcasterLogin is null ? destination.BroadcasterLogin : NullIfEmpty(command.BroadcasterLogin),
            ThumbnailUrl = command.ThumbnailUrl is null ? destination.ThumbnailUrl : NullIfEmpty(command.ThumbnailUrl),
            Enabled = command.Enabled ?? destination.Enabled,
            UpdatedAt = now,
        };
        var pushChanged = updated.Url != destination.Url || updated.StreamKey != destination.StreamKey || updated.Enabled != destination.Enabled;
        if (pushChanged)
        {
            // A push made from the old settings is stale: it no longer counts, and its next report tells it to stop.
            updated = updated with { Revision = destination.Revision + 1 };
        }

        var index = S.Destinations.FindIndex(d => d.DestinationId == destinationId);
        S.Destinations[index] = updated;
        // Online or in error means a push of the old settings (or, for a destination that had no url, none at all): a push of
        // the new ones has not reported yet. Without a url the sync below decides.
        if (pushChanged && updated.Url is not null && updated.Status != DestinationStatus.Offline)
        {
            SetDestinationStatus(index, DestinationStatus.Offline, null, null, now);
        }

        await CommitDestinationsAsync(now);
        return ToDestinationDto(S.Destinations[index]);
    }

    public async Task<Result<bool>> DeleteDestinationAsync(string destinationId)
    {
        if (!Present || FindDestination(destinationId) is null)
        {
            return DestinationNotFound();
        }

        // A consumer following the status hears that it is no longer online before the destination goes.
        var index = S.Destinations.FindIndex(d => d.DestinationId == destinationId);
        var now = clock.UtcNow;
        SetDestinationStatus(index, DestinationStatus.Offline, null, null, now);
        S.Destinations.RemoveAt(index);
        await CommitDestinationsAsync(now);
        return true;
    }

    public Task<Result<RestreamPlan>> RestreamPlanAsync(string streamId, string liveId)
    {
        if (!Present)
        {
            return Task.FromResult(Result<RestreamPlan>.Fail(NotFound()));
        }

        // Only the live's pushing feed pushes: a backup's publish (its own exec_push) must not send a second copy. The restream
        // script asks again every few seconds, so a backup's plan fills as soon as the primary stops publishing.
        if (PushingLive() is not { } live || live.LiveId != liveId || PushingFeed(live) != streamId)
        {
            return Task.FromResult(Result<RestreamPlan>.Ok(new RestreamPlan(liveId, [])));
        }

        RestreamTarget[] targets =
        [
            .. S.Destinations
                .Where(d => d.Enabled && d.Url is not null)
                .Select(d => new RestreamTarget(d.DestinationId, d.Revision, DestinationLimits.PushUrl(d.Url!, d.StreamKey))),
        ];
        return Task.FromResult(Result<RestreamPlan>.Ok(new RestreamPlan(liveId, targets)));
    }

    public async Task<Result<bool>> ReportDestinationAsync(string streamId, DestinationReport report)
    {
        if (!Present)
        {
            return NotFound();
        }

        var index = S.Destinations.FindIndex(d => d.DestinationId == report.DestinationId);
        if (index < 0)
        {
            return false; // deleted: the push stops
        }

        var destination = S.Destinations[index];
        var stands = destination.Enabled && destination.Url is not null && destination.Revision == report.Revision
            && PushingLive() is { } pushing && pushing.LiveId == report.LiveId && PushingFeed(pushing) == streamId;
        if (!stands)
        {
            // A late report of a push whose live ended or whose settings changed, or of a feed that no longer pushes (a
            // primary that stopped publishing while its backup took over): the room already decided its status.
            return false;
        }

        var now = clock.UtcNow;
        var before = destination;
        var error = report.Status == DestinationStatus.Error
            ? DestinationLimits.Redact(report.Error, destination.StreamKey) ?? "The push failed."
            : null;
        SetDestinationStatus(index, report.Status, report.Status == DestinationStatus.Offline ? null : report.LiveId, error, now);
        if (S.Destinations[index] != before)
        {
            await CommitDestinationsAsync(now);
        }

        return report.Status != DestinationStatus.Offline;
    }

    /// <summary>
    /// Brings every destination's status in line with the room's lives, recording an event for each change; called in
    /// <see cref="CommitAsync"/> before its write. Status only (no url): online exactly while a live is on air, live or
    /// paused (a pause is an interruption within the reconnect window; Fourthwall's service stays ONLINE until the stream
    /// is stopped). With a url: the push reports online/error itself; it is offline whenever the live it pushed is no
    /// longer publishing (ended, paused, superseded), since the media server's push stops with the publish.
    /// </summary>
    private void SyncDestinations(DateTimeOffset now)
    {
        if (S.Destinations.Count == 0)
        {
            return;
        }

        var onAir = Present ? Active() : null;
        var pushing = Present ? PushingLive()?.LiveId : null;
        for (var i = 0; i < S.Destinations.Count; i++)
        {
            var d = S.Destinations[i];
            if (!d.Enabled)
            {
                SetDestinationStatus(i, DestinationStatus.Offline, null, null, now);
            }
            else if (d.Url is null)
            {
                SetDestinationStatus(i, onAir is null ? DestinationStatus.Offline : DestinationStatus.Online, onAir?.LiveId, null, now);
            }
            else if (d.LiveId is null || d.LiveId != pushing)
            {
                SetDestinationStatus(i, DestinationStatus.Offline, null, null, now);
            }
        }
    }

    /// <summary>Sets a status; a change (not a repeat) stamps <c>status_at</c> and records its event with the destination's next sequence.</summary>
    private void SetDestinationStatus(int index, DestinationStatus status, string? liveId, string? error, DateTimeOffset now)
    {
        var d = S.Destinations[index];
        if (d.Status == status)
        {
            S.Destinations[index] = d with { LiveId = liveId, LastError = status == DestinationStatus.Error ? error ?? d.LastError : d.LastError };
            return;
        }

        d = d with
        {
            Status = status,
            StatusAt = now,
            LiveId = liveId,

            // The last failure stays readable after the push stops; a connected push clears it.
            LastError = status switch
            {
                DestinationStatus.Error => error,
                DestinationStatus.Online => null,
                _ => d.LastError,
            },
            LastEventSequence = d.LastEventSequence + 1,
        };
        S.Destinations[index] = d;
        var type = status switch
        {
            DestinationStatus.Online => EventTypes.DestinationOnline,
            DestinationStatus.Error => EventTypes.DestinationError,
            _ => EventTypes.DestinationOffline,
        };
        S.Outbox.Record(type, Tenant, "destination", d.DestinationId, d.LastEventSequence, now, ToDestinationDto(d));
    }

    /// <summary>A destination change that is not a decision about lives: synced, written once, its events handed off.</summary>
    private async Task CommitDestinationsAsync(DateTimeOffset now)
    {
        SyncDestinations(now);
        await WriteAsync();
        await Relay.HandOffAsync();
    }

    /// <summary>The live on air whose ingest publishes now (what the media server can push), if any.</summary>
    private RoomLive? PushingLive() =>
        Active() is { Lifecycle.Status: LiveStatus.Live } live && live.Feeds?.Any(f => f.Publishing) == true ? live : null;

    /// <summary>
    /// The feed whose publish is restreamed: the first publishing one. Feeds are kept in the order they (re)started
    /// publishing, so the pushing feed is sticky: a primary that comes back after its backup took over does not take the
    /// pushes back (a destination takes one publisher per key; swapping would cut it twice).
    /// </summary>
    private static string? PushingFeed(RoomLive live) => live.Feeds?.FirstOrDefault(f => f.Publishing)?.StreamId;

    private RoomDestination? FindDestination(string destinationId) => S.Destinations.Find(d => d.DestinationId == destinationId);

    private static DomainError DestinationNotFound() => DomainError.NotFound("Destination");

    private DestinationDto ToDestinationDto(RoomDestination d) => new(
        d.DestinationId, RoomId, d.Type, d.Url, d.StreamKey is not null, d.BroadcasterId, d.BroadcasterLogin, d.ThumbnailUrl,
        d.Enabled, d.Status, d.StatusAt, d.LastError, d.LiveId, d.CreatedAt, d.UpdatedAt);
}

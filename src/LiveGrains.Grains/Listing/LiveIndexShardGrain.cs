using LiveGrains.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;

namespace LiveGrains.Grains.Listing;

/// <summary>
/// One shard of a tenant's lives index: every live of the rooms that hash here, with its status, creation and start
/// times and audience. Kept sorted in memory (one sorted set per status and order), so a page is a walk from the
/// cursor whatever the shard's size. Rooms push lifecycle changes from their pump (durable here before the room
/// counts them done); statistics grains push audiences, which ride along with the next write (docs/listing.md).
/// Stored as a log of changes (<see cref="IndexLog{TEntry}"/>), so a write costs the lives that changed.
/// Reentrant: reads never wait for a write, and concurrent upserts share one write.
/// </summary>
[Reentrant]
public sealed class LiveIndexShardGrain(
    [PersistentState(LiveIndexShardGrain.StateName, LiveGrainsStorage.State)] IPersistentState<IndexLogHead> head,
    [FromKeyedServices(LiveGrainsStorage.State)] IGrainStorage storage,
    ILogger<LiveIndexShardGrain> logger) : Grain, ILiveIndexShardGrain
{
    private const string StateName = "live-index";

    /// <summary>
    /// How long a write gathers changes first. Rooms push from their pump, behind the decision's answer, and the
    /// listing promises 2 s: 50 ms turns a shard's write per go-live into at most 20 writes a second.
    /// </summary>
    internal static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Ended lives kept per shard (the newest by creation): the index lists history for browsing, bounded; the full
    /// history of a room stays at <c>GET /v1/rooms/{room_id}/lives</c>.
    /// </summary>
    internal const int MaxEndedPerShard = 50_000;

    private const int Orders = 3;
    private const int Statuses = 5;

    private readonly SortedSet<IndexHit>[,] _sorted = NewSets();
    private readonly Dictionary<string, HashSet<string>> _byRoom = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LiveIndexEntry> _entries = new(StringComparer.Ordinal);
    private IndexLog<LiveIndexEntry>? _log;

    private IndexLog<LiveIndexEntry> Log => _log!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _log = new IndexLog<LiveIndexEntry>(
            storage, StateName, this.GetPrimaryKeyString(), head, e => e.LiveId, () => _entries.Values, DeactivateOnIdle, logger, Gather);
        foreach (var entry in await _log.LoadAsync())
        {
            _entries[entry.LiveId] = entry;
            Add(entry);
        }
    }

    public async Task UpsertAsync(LiveIndexEntry[] entries)
    {
        var changed = false;
        foreach (var entry in entries)
        {
            if (_entries.TryGetValue(entry.LiveId, out var known))
            {
                if (known.Sequence >= entry.Sequence)
                {
                    continue; // a replay, or older than what the room pushed last
                }

                Remove(known);
            }

            // The audience is the statistics' to say: a lifecycle push never resets it.
            var next = entry with { ViewerCount = known?.ViewerCount ?? entry.ViewerCount };
            _entries[entry.LiveId] = next;
            Add(next);
            Log.Put(next);
            changed = true;
        }

        if (!changed && !Log.HasPending)
        {
            return;
        }

        TrimEnded();
        await Log.SaveAsync();
    }

    public Task<string[]> SetViewerCountsAsync(LiveViewerCount[] counts)
    {
        List<string>? unknown = null;
        foreach (var (liveId, viewerCount) in counts)
        {
            if (!_entries.TryGetValue(liveId, out var known))
            {
                (unknown ??= []).Add(liveId);
                continue;
            }

            if (known.ViewerCount != viewerCount)
            {
                Remove(known);
                var next = known with { ViewerCount = viewerCount };
                _entries[liveId] = next;
                Add(next);
                Log.Put(next);
            }
        }

        return Task.FromResult(unknown is null ? Array.Empty<string>() : [.. unknown]);
    }

    public Task<IndexHit[]> QueryAsync(LiveOrder order, LiveStatus[]? statuses, IndexQuery query)
    {
        var wanted = statuses is { Length: > 0 } ? statuses.Distinct().ToArray() : Enum.GetValues<LiveStatus>();
        if (query.RoomId is { } roomId)
        {
            // A room's lives are few: sort them here rather than walk the shard.
            var hits = _byRoom.TryGetValue(roomId, out var ids)
                ? ids.Select(id => _entries[id]).Where(e => wanted.Contains(e.Status)).Select(e => Hit(e, order))
                    .Where(h => IndexOrder.IsAfter(h, query.After)).Order(IndexOrder.Instance).Take(query.Limit).ToArray()
                : [];
            return Task.FromResult(hits);
        }

        // Each status's set is sorted: take a page from each and merge.
        var merged = wanted.SelectMany(status => IndexOrder.After(_sorted[(int)order, (int)status], query.After, query.Limit))
            .Order(IndexOrder.Instance).Take(query.Limit).ToArray();
        return Task.FromResult(merged);
    }

    private static IndexHit Hit(LiveIndexEntry entry, LiveOrder order) => order switch
    {
        LiveOrder.StartedAt => new IndexHit(IndexOrder.Ticks(entry.StartedAt), entry.LiveId),
        LiveOrder.ViewerCount => new IndexHit(entry.ViewerCount, entry.LiveId),
        _ => new IndexHit(entry.CreatedAt.UtcTicks, entry.LiveId),
    };

    private void Add(LiveIndexEntry entry)
    {
        for (var order = 0; order < Orders; order++)
        {
            _sorted[order, (int)entry.Status].Add(Hit(entry, (LiveOrder)order));
        }

        if (Ids.TryGetRoomOfLive(entry.LiveId, out var roomId))
        {
            if (!_byRoom.TryGetValue(roomId, out var ids))
            {
                _byRoom[roomId] = ids = new HashSet<string>(StringComparer.Ordinal);
            }

            ids.Add(entry.LiveId);
        }
    }

    private void Remove(LiveIndexEntry entry)
    {
        for (var order = 0; order < Orders; order++)
        {
            _sorted[order, (int)entry.Status].Remove(Hit(entry, (LiveOrder)order));
        }

        if (Ids.TryGetRoomOfLive(entry.LiveId, out var roomId) && _byRoom.TryGetValue(roomId, out var ids))
        {
            ids.Remove(entry.LiveId);
            if (ids.Count == 0)
            {
                _byRoom.Remove(roomId);
            }
        }
    }

    /// <summary>Drops the oldest ended lives beyond <see cref="MaxEndedPerShard"/>, so the shard's size stays bounded.</summary>
    private void TrimEnded()
    {
        var ended = _sorted[(int)LiveOrder.CreatedAt, (int)LiveStatus.Ended];
        while (ended.Count > MaxEndedPerShard)
        {
            var oldest = _entries[ended.Max.Id];
            Remove(oldest);
            _entries.Remove(oldest.LiveId);
            Log.Remove(oldest.LiveId);
        }
    }

    private static SortedSet<IndexHit>[,] NewSets()
    {
        var sets = new SortedSet<IndexHit>[Orders, Statuses];
        for (var order = 0; order < Orders; order++)
        {
            for (var status = 0; status < Statuses; status++)
            {
                sets[order, status] = new SortedSet<IndexHit>(IndexOrder.Instance);
            }
        }

        return sets;
    }
}

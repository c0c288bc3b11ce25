using LiveGrains.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;

namespace LiveGrains.Grains.Listing;

/// <summary>
/// One shard of a tenant's rooms or streams index, newest first: the ids and creation times of the rooms that hash here
/// (or of their streams). Rooms and streams add themselves before their create is stored, so nothing created is ever
/// missing; an entry whose create then failed, or whose resource was deleted, is skipped when the listing fetches it.
/// Stored as a log of changes (<see cref="IndexLog{TEntry}"/>), so a write costs the entries that changed, not the
/// shard's million rooms. Reentrant: reads never wait for a write, and concurrent upserts share one write.
/// </summary>
[Reentrant]
public sealed class ResourceIndexShardGrain(
    [PersistentState(ResourceIndexShardGrain.StateName, LiveGrainsStorage.State)] IPersistentState<IndexLogHead> head,
    [FromKeyedServices(LiveGrainsStorage.State)] IGrainStorage storage,
    ILogger<ResourceIndexShardGrain> logger) : Grain, IResourceIndexShardGrain
{
    private const string StateName = "resource-index";

    private readonly SortedSet<IndexHit> _sorted = new(IndexOrder.Instance);
    private readonly Dictionary<string, SortedSet<IndexHit>> _byRoom = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ResourceIndexEntry> _entries = new(StringComparer.Ordinal);
    private IndexLog<ResourceIndexEntry>? _log;

    private IndexLog<ResourceIndexEntry> Log => _log!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _log = new IndexLog<ResourceIndexEntry>(
            storage, StateName, this.GetPrimaryKeyString(), head, e => e.Id, () => _entries.Values, DeactivateOnIdle, logger);
        foreach (var entry in await _log.LoadAsync())
        {
            _entries[entry.Id] = entry;
            Add(entry);
        }
    }

    public async Task UpsertAsync(ResourceIndexEntry entry)
    {
        if (_entries.TryGetValue(entry.Id, out var known))
        {
            if (known == entry)
            {
                if (Log.HasPending)
                {
                    await Log.SaveAsync(); // a retry: the entry may be in memory only, after a failed write
                }

                return;
            }

            Remove(known);
        }

        _entries[entry.Id] = entry;
        Add(entry);
        Log.Put(entry);
        await Log.SaveAsync();
    }

    public async Task RemoveAsync(string id)
    {
        if (!_entries.Remove(id, out var known))
        {
            if (Log.HasPending)
            {
                await Log.SaveAsync(); // a retry: the removal may be in memory only, after a failed write
            }

            return;
        }

        Remove(known);
        Log.Remove(id);
        await Log.SaveAsync();
    }

    public Task<IndexHit[]> QueryAsync(IndexQuery query)
    {
        var set = query.RoomId is { } roomId ? _byRoom.GetValueOrDefault(roomId) : _sorted;
        return Task.FromResult(set is null ? [] : IndexOrder.After(set, query.After, query.Limit).ToArray());
    }

    private static IndexHit Hit(ResourceIndexEntry entry) => new(entry.CreatedAt.UtcTicks, entry.Id);

    private void Add(ResourceIndexEntry entry)
    {
        _sorted.Add(Hit(entry));
        if (entry.Id == entry.RoomId)
        {
            return; // a room: no per-room set (a million rooms would be a million sets)
        }

        if (!_byRoom.TryGetValue(entry.RoomId, out var room))
        {
            _byRoom[entry.RoomId] = room = new SortedSet<IndexHit>(IndexOrder.Instance);
        }

        room.Add(Hit(entry));
    }

    private void Remove(ResourceIndexEntry entry)
    {
        _sorted.Remove(Hit(entry));
        if (_byRoom.TryGetValue(entry.RoomId, out var room) && room.Remove(Hit(entry)) && room.Count == 0)
        {
            _byRoom.Remove(entry.RoomId);
        }
    }
}

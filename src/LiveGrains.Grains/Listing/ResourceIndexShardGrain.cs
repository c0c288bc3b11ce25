using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace LiveGrains.Grains.Listing;

[GenerateSerializer, Alias("LiveGrains.ResourceIndexState")]
public sealed class ResourceIndexState
{
    [Id(0)]
    public Dictionary<string, ResourceIndexEntry> Entries { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One shard of a tenant's rooms or streams index, newest first: the ids and creation times of the rooms that hash here
/// (or of their streams). Rooms and streams add themselves before their create is stored, so nothing created is ever
/// missing; an entry whose create then failed, or whose resource was deleted, is skipped when the listing fetches it.
/// Reentrant: reads never wait for a write, and concurrent upserts share one write.
/// </summary>
[Reentrant]
public sealed class ResourceIndexShardGrain(
    [PersistentState("resource-index", LiveGrainsStorage.State)] IPersistentState<ResourceIndexState> state,
    ILogger<ResourceIndexShardGrain> logger) : Grain, IResourceIndexShardGrain
{
    private readonly SortedSet<IndexHit> _sorted = new(IndexOrder.Instance);
    private readonly Dictionary<string, SortedSet<IndexHit>> _byRoom = new(StringComparer.Ordinal);
    private CoalescedWriter? _writer;

    private Dictionary<string, ResourceIndexEntry> Entries => state.State.Entries;

    private CoalescedWriter Writer => _writer ??= new CoalescedWriter(WriteAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in Entries.Values)
        {
            Add(entry);
        }

        return Task.CompletedTask;
    }

    public async Task UpsertAsync(ResourceIndexEntry entry)
    {
        if (Entries.TryGetValue(entry.Id, out var known))
        {
            if (known == entry)
            {
                return;
            }

            Remove(known);
        }

        Entries[entry.Id] = entry;
        Add(entry);
        await Writer.SaveAsync();
    }

    public async Task RemoveAsync(string id)
    {
        if (!Entries.Remove(id, out var known))
        {
            return;
        }

        Remove(known);
        await Writer.SaveAsync();
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

    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex)
        {
            // Memory is ahead of storage: the next activation starts from what storage holds; the caller retries.
            logger.LogWarning(ex, "Index shard {Shard}: write failed; deactivating", this.GetPrimaryKeyString());
            DeactivateOnIdle();
            throw;
        }
    }
}

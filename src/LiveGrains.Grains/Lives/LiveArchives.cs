using LiveGrains.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace LiveGrains.Grains.Lives;

/// <summary>
/// The archive of ended lives: one immutable record per live, written once by the room that owned the live and read
/// by the live's grain and the room. The room writes it straight to storage under the live grain's own state key
/// ("live"), so archiving an ended live costs one storage write and no activation, directory entry or read of the
/// live's grain (a go-live on a busy room used to activate the superseded live's grain just to store this record).
/// </summary>
public sealed class LiveArchives(IServiceProvider services, IGrainFactory grains)
{
    /// <summary>The state name of <see cref="LiveGrain"/>'s record; part of the storage key, never change it.</summary>
    public const string StateName = "live";

    private IGrainStorage? _storage;

    private IGrainStorage Storage => _storage ??= services.GetRequiredKeyedService<IGrainStorage>(LiveGrainsStorage.State);

    /// <summary>
    /// Stores <paramref name="archive"/> as the live's final record. Idempotent: a record that is already there (a
    /// retry after a write whose answer was lost) is left as it is. Durable when it returns.
    /// </summary>
    public async Task WriteAsync(LiveArchive archive)
    {
        var record = new GrainState<LiveState>(new LiveState { Tenant = archive.Tenant, Archive = archive });
        try
        {
            // A null ETag writes only where no record exists: the archive is written once and never replaced.
            await Storage.WriteStateAsync(StateName, GrainIdOf(archive.Live.LiveId), record);
        }
        catch (InconsistentStateException)
        {
            // Stored by an earlier attempt, unless something else holds the key (which would be a bug: say so).
            if (await ReadAsync(archive.Live.LiveId) is null)
            {
                throw;
            }
        }
    }

    /// <summary>The live's final record, or null when it has none (not ended and archived, or never existed).</summary>
    public async Task<LiveArchive?> ReadAsync(string liveId)
    {
        var record = new GrainState<LiveState>(new LiveState());
        await Storage.ReadStateAsync(StateName, GrainIdOf(liveId), record);
        return record.RecordExists ? record.State?.Archive : null;
    }

    /// <summary>The record for <paramref name="tenant"/>: another tenant's live is not found.</summary>
    public async Task<LiveArchive?> ReadAsync(string liveId, string tenant) =>
        await ReadAsync(liveId) is { } archive && string.Equals(archive.Tenant, tenant, StringComparison.Ordinal) ? archive : null;

    private GrainId GrainIdOf(string liveId) => grains.Get<ILiveGrain>(liveId).GetGrainId();
}

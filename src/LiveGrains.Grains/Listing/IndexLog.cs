using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace LiveGrains.Grains.Listing;

/// <summary>Where an index shard's stored form starts: its snapshot and the first change record after it.</summary>
[GenerateSerializer, Alias("LiveGrains.IndexLogHead")]
public sealed class IndexLogHead
{
    /// <summary>The snapshot's id (a fresh one per compaction, so a half-written one is never mistaken for it); null: none.</summary>
    [Id(0)] public string? Snapshot { get; set; }

    [Id(1)] public int SnapshotChunks { get; set; }

    /// <summary>The first change record not folded into the snapshot; records follow without gaps until one is missing.</summary>
    [Id(2)] public long FirstRecord { get; set; }
}

/// <summary>One stored batch of an index's changes, or one chunk of its snapshot (upserts only).</summary>
[GenerateSerializer, Alias("LiveGrains.IndexLogRecord`1")]
public sealed class IndexLogRecord<TEntry>
{
    [Id(0)] public List<TEntry> Upserts { get; set; } = [];

    [Id(1)] public List<string> Removals { get; set; } = [];
}

/// <summary>
/// The stored form of an index shard, log-structured so a write costs what changed, not what the shard holds: each
/// flush appends one record of the entries changed since the last one (its own storage key, written once), and
/// once the records add up to about the shard's size they are folded into a fresh snapshot (chunked) that the head
/// record (the grain's own state, ETag-checked, so a second activation cannot move it) then points at. Loading reads
/// the snapshot, then the records from the head's first until one is missing. A shard holding 50,000 lives used to
/// write all of them on every change (run H in docs/benchmarks.md); now a change costs about two entries' worth of
/// writes, amortized.
/// <para>
/// Not thread-safe on its own: made for a reentrant grain, whose turns never overlap. Writes are coalesced (one in
/// flight; changes made meanwhile share the next one). A failed write keeps its changes for the next one (the callers
/// saw the failure and retry); a record or head that another writer stored first means memory is not what storage
/// holds, so the shard deactivates and its next activation loads what storage holds.
/// </para>
/// </summary>
public sealed class IndexLog<TEntry>
    where TEntry : class
{
    /// <summary>Entries per snapshot chunk (about 200 KB): no single storage value grows with the shard.</summary>
    internal const int ChunkSize = 2_000;

    /// <summary>Records after which the shard compacts even when they are small, bounding what an activation reads.</summary>
    internal const int MaxRecords = 512;

    /// <summary>Below this many logged entries a shard does not compact for size (a small shard would compact all the time).</summary>
    internal const int MinCompactEntries = 4_096;

    private const string RecordType = "lg-index-record";
    private const string ChunkType = "lg-index-chunk";

    private readonly IGrainStorage _storage;
    private readonly string _stateName;
    private readonly string _owner;
    private readonly IPersistentState<IndexLogHead> _head;
    private readonly Func<TEntry, string> _keyOf;
    private readonly Func<IReadOnlyCollection<TEntry>> _current;
    private readonly Action _onFailure;
    private readonly ILogger _logger;
    private readonly CoalescedWriter _writer;
    private Dictionary<string, TEntry?> _pending = new(StringComparer.Ordinal);

    // The ETags of the records and chunks this activation wrote or read, so that removing them later is one conditional
    // delete each instead of a read and a delete (a go-live's feed append writes one record: session 7, run L).
    private readonly Dictionary<GrainId, string> _etags = [];
    private long _nextRecord;
    private long _loggedEntries;

    /// <param name="storage">The grain storage provider the records and chunks go to (the head's own).</param>
    /// <param name="stateName">The index's state name; records and chunks are stored under it.</param>
    /// <param name="owner">The shard's key: records and chunks are named after it.</param>
    /// <param name="head">The shard grain's persistent state.</param>
    /// <param name="keyOf">An entry's key.</param>
    /// <param name="current">Every entry the shard holds now (for a snapshot).</param>
    /// <param name="onFailure">Called when a write failed (the grain deactivates).</param>
    /// <param name="logger">Where failures are reported.</param>
    /// <param name="gather">How long a write waits for more changes to share it (<see cref="CoalescedWriter"/>).</param>
    public IndexLog(
        IGrainStorage storage, string stateName, string owner, IPersistentState<IndexLogHead> head, Func<TEntry, string> keyOf,
        Func<IReadOnlyCollection<TEntry>> current, Action onFailure, ILogger logger, TimeSpan gather = default)
    {
        _storage = storage;
        _stateName = stateName;
        _owner = owner;
        _head = head;
        _keyOf = keyOf;
        _current = current;
        _onFailure = onFailure;
        _logger = logger;
        _writer = new CoalescedWriter(FlushAsync, gather);
    }

    /// <summary>Reads the stored index: every entry, in no particular order.</summary>
    public async Task<List<TEntry>> LoadAsync()
    {
        var entries = new Dictionary<string, TEntry>(StringComparer.Ordinal);
        var head = _head.State;
        if (head.Snapshot is { } snapshot)
        {
            var chunks = await Task.WhenAll(Enumerable.Range(0, head.SnapshotChunks).Select(i => ReadAsync(ChunkId(snapshot, i))));
            for (var i = 0; i < chunks.Length; i++)
            {
                // A head points at a snapshot only after all its chunks were stored: a missing one is lost data.
                var chunk = chunks[i] ?? throw new InvalidOperationException($"Index {_owner}: snapshot chunk {i} of {snapshot} is missing");
                Apply(entries, chunk);
            }
        }

        _nextRecord = head.FirstRecord;
        _loggedEntries = 0;
        while (await ReadAsync(RecordId(_nextRecord)) is { } record)
        {
            Apply(entries, record);
            _loggedEntries += record.Upserts.Count + record.Removals.Count;
            _nextRecord++;
        }

        return [.. entries.Values];
    }

    /// <summary>
    /// Whether changes wait for a write: then a call that changed nothing (a retry after a failed write, whose change is
    /// in memory already) must still save before it answers.
    /// </summary>
    public bool HasPending => _pending.Count > 0;

    /// <summary>Records a change for the next write, without asking for one (it rides along with the next <see cref="SaveAsync"/>).</summary>
    public void Put(TEntry entry) => _pending[_keyOf(entry)] = entry;

    /// <summary>Records a removal for the next write.</summary>
    public void Remove(string key) => _pending[key] = null;

    /// <summary>Returns once every change recorded before the call is durable.</summary>
    public Task SaveAsync() => _writer.SaveAsync();

    private async Task FlushAsync()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var batch = _pending;
        _pending = new Dictionary<string, TEntry?>(StringComparer.Ordinal);
        var record = new IndexLogRecord<TEntry>();
        foreach (var (key, entry) in batch)
        {
            if (entry is null)
            {
                record.Removals.Add(key);
            }
            else
            {
                record.Upserts.Add(entry);
            }
        }

        try
        {
            // A null ETag stores only where nothing is: a second activation appending the same record number fails here.
            var stored = new GrainState<IndexLogRecord<TEntry>>(record);
            await _storage.WriteStateAsync(_stateName, RecordId(_nextRecord), stored);
            Remember(RecordId(_nextRecord), stored);
        }
        catch (Exception ex)
        {
            // The batch goes back in front of anything changed since, so the next write (a caller's retry) carries it.
            foreach (var (key, entry) in batch)
            {
                _pending.TryAdd(key, entry);
            }

            if (ex is InconsistentStateException)
            {
                // The record is there already: another activation wrote it, or an earlier attempt of ours landed after
                // all. Either way memory is not what storage holds: start again from storage.
                _logger.LogWarning(ex, "Index {Index}: change record {Record} exists already; deactivating", _owner, _nextRecord);
                _onFailure();
            }

            throw;
        }

        _nextRecord++;
        _loggedEntries += batch.Count;
        if (_nextRecord - _head.State.FirstRecord >= MaxRecords || _loggedEntries >= Math.Max(MinCompactEntries, _current().Count))
        {
            try
            {
                await CompactAsync();
            }
            catch (Exception ex)
            {
                // The changes are stored in their records; compaction is tried again after the next write.
                _logger.LogWarning(ex, "Index {Index}: compaction failed", _owner);
                if (ex is InconsistentStateException)
                {
                    _onFailure(); // another activation moved the head
                }
            }
        }
    }

    /// <summary>
    /// Stores what the shard holds now as a new snapshot and moves the head past every record written so far. The copy
    /// may already include changes still pending (made while the last record was written); those are written again
    /// in the next record, and replaying an entry's latest value is harmless.
    /// </summary>
    private async Task CompactAsync()
    {
        var entries = _current().ToArray();
        var snapshot = Guid.NewGuid().ToString("N");
        var chunks = entries.Chunk(ChunkSize).ToArray();
        await Task.WhenAll(chunks.Select(async (chunk, i) =>
        {
            var stored = new GrainState<IndexLogRecord<TEntry>>(new IndexLogRecord<TEntry> { Upserts = [.. chunk] });
            await _storage.WriteStateAsync(_stateName, ChunkId(snapshot, i), stored);
            Remember(ChunkId(snapshot, i), stored);
        }));

        var old = _head.State;
        _head.State = new IndexLogHead { Snapshot = snapshot, SnapshotChunks = chunks.Length, FirstRecord = _nextRecord };
        try
        {
            await _head.WriteStateAsync();
        }
        catch
        {
            _head.State = old; // the stored head is the old one (or, if this write landed after all, the next write finds out)
            throw;
        }

        _loggedEntries = 0;

        // What the head no longer points at is garbage; removing it is best effort, off the writers' path.
        _ = DeleteAsync(old.Snapshot, old.SnapshotChunks, old.FirstRecord, _nextRecord);
    }

    private async Task DeleteAsync(string? snapshot, int chunks, long firstRecord, long endRecord)
    {
        try
        {
            var ids = Enumerable.Range(0, snapshot is null ? 0 : chunks).Select(i => ChunkId(snapshot!, i))
                .Concat(Enumerable.Range(0, (int)(endRecord - firstRecord)).Select(i => RecordId(firstRecord + i)));
            foreach (var id in ids)
            {
                var state = new GrainState<IndexLogRecord<TEntry>>();
                if (_etags.Remove(id, out var etag))
                {
                    state.ETag = etag;
                    state.RecordExists = true;
                }
                else
                {
                    await _storage.ReadStateAsync(_stateName, id, state);
                }

                if (state.RecordExists)
                {
                    await _storage.ClearStateAsync(_stateName, id, state);
                }
            }
        }
        catch (Exception ex)
        {
            _logger.LogInformation(ex, "Index {Index}: could not remove superseded records (they are never read again)", _owner);
        }
    }

    private async Task<IndexLogRecord<TEntry>?> ReadAsync(GrainId id)
    {
        var state = new GrainState<IndexLogRecord<TEntry>>();
        await _storage.ReadStateAsync(_stateName, id, state);
        Remember(id, state);
        return state.RecordExists ? state.State : null;
    }

    private void Remember(GrainId id, GrainState<IndexLogRecord<TEntry>> state)
    {
        if (state.RecordExists && state.ETag is { } etag)
        {
            _etags[id] = etag;
        }
    }

    private void Apply(Dictionary<string, TEntry> entries, IndexLogRecord<TEntry> record)
    {
        foreach (var entry in record.Upserts)
        {
            entries[_keyOf(entry)] = entry;
        }

        foreach (var key in record.Removals)
        {
            entries.Remove(key);
        }
    }

    private GrainId RecordId(long record) => GrainId.Create(RecordType, $"{_owner}/{record}");

    private GrainId ChunkId(string snapshot, int chunk) => GrainId.Create(ChunkType, $"{_owner}/{snapshot}/{chunk}");
}

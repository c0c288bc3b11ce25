using LiveGrains.Abstractions;
using LiveGrains.Grains.Listing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;

namespace LiveGrains.Grains.Feed;

[GenerateSerializer, Alias("LiveGrains.EventFeedShardState")]
public sealed class EventFeedShardState
{
    // Ids 0 and 1 (the next position and the open page) were stored here until the open page became a log of its own.

    /// <summary>The page the next seal writes; page n holds positions n x <see cref="EventFeed.PageSize"/> + 1 onwards.</summary>
    [Id(3)]
    public long NextPage { get; set; }

    /// <summary>The oldest page still kept (older ones passed the retention and were cleared).</summary>
    [Id(4)]
    public long FirstPage { get; set; }
}

/// <summary>
/// One shard of a tenant's event feed. Fed by every grain's outbox relay (after the event's own write, behind the
/// answer when the hand-off takes more than a second), so it is never a second write on a decision. The open page (the
/// entries after the sealed pages) is stored as an <see cref="IndexLog{TEntry}"/>: an append writes only its new
/// entries, and concurrent appends share one write (the grain is reentrant; no gather delay: a decision's answer waits
/// for its events' hand-off, OutboxRelay.HandOffWait). Until session 7 every append rewrote the whole open page (up to
/// 64 Live bodies): that serialization was the largest single cost in a CPU profile of go-live (docs/benchmarks.md,
/// run L). The shard's own state changes only when a page is sealed or expires: full pages of
/// <see cref="EventFeed.PageSize"/> events move to their own page grains, pages are found by arithmetic on positions
/// (no list of them is stored), and pages past <see cref="EventFeed.Retention"/> are cleared.
/// </summary>
[Reentrant]
public sealed class EventFeedShardGrain(
    [PersistentState("feed", LiveGrainsStorage.State)] IPersistentState<EventFeedShardState> state,
    [PersistentState(EventFeedShardGrain.LogStateName, LiveGrainsStorage.State)] IPersistentState<IndexLogHead> logHead,
    [FromKeyedServices(LiveGrainsStorage.State)] IGrainStorage storage,
    LiveGrainsClock clock,
    ILogger<EventFeedShardGrain> logger) : Grain, IEventFeedShardGrain
{
    private const string LogStateName = "feed-log";

    /// <summary>Sealed pages whose event ids are remembered besides the open page's, to recognise a replay.</summary>
    private const int RememberedPages = 4;

    // The ids of the open page and of the last RememberedPages sealed pages (oldest first in _sealedIds). A relay replays
    // an event after a crash between its hand-off and its outbox write, so a replay follows the original closely.
    private readonly HashSet<string> _recentIds = new(StringComparer.Ordinal);
    private readonly Queue<string[]> _sealedIds = new();
    private Task? _rememberingSealed;
    private bool _sealing;

    /// <summary>The open page: the entries after the sealed pages, oldest first (stored in <see cref="Log"/>).</summary>
    private readonly List<FeedEntry> _open = [];

    /// <summary>The position the next event takes (positions start at 1 and have no gaps).</summary>
    private long _nextPosition;

    private IndexLog<FeedEntry>? _log;

    /// <summary>The newest event time of page <see cref="EventFeedShardState.FirstPage"/>, once read (for the retention).</summary>
    private DateTimeOffset? _firstPageLastAt;

    /// <summary>
    /// Positions up to this one are stored. Reads never show a later one: an entry shown before its write could be lost
    /// to a crash and its position given to another event, which a reader past it would then never see.
    /// </summary>
    private long _durable;

    private EventFeedShardState S => state.State;

    private IndexLog<FeedEntry> Log => _log!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _log = new IndexLog<FeedEntry>(
            storage, LogStateName, this.GetPrimaryKeyString(), logHead, e => LogKey(e.Position), () => _open, DeactivateOnIdle, logger);

        // Entries of pages sealed since the log last dropped them are in both: the page is what counts.
        var sealedUpTo = S.NextPage * EventFeed.PageSize;
        _open.AddRange((await _log.LoadAsync()).Where(e => e.Position > sealedUpTo).OrderBy(e => e.Position));
        for (var i = 0; i < _open.Count; i++)
        {
            if (_open[i].Position != sealedUpTo + i + 1)
            {
                // Entries are stored in position order by one writer at a time, so a hole is lost data, not a race.
                throw new InvalidOperationException($"Feed shard {this.GetPrimaryKeyString()}: position {sealedUpTo + i + 1} is missing from its log");
            }

            _recentIds.Add(_open[i].Event.EventId);
        }

        _nextPosition = sealedUpTo + _open.Count + 1;
        _durable = _nextPosition - 1;
    }

    /// <summary>
    /// After an activation, the ids of the last sealed pages are read once, before the first append (concurrent appends
    /// share the read); a failed read is tried again by the next append instead of failing every append after it.
    /// </summary>
    private async Task RememberSealedPagesAsync()
    {
        try
        {
            await (_rememberingSealed ??= ReadSealedIdsAsync());
        }
        catch
        {
            _rememberingSealed = null;
            throw;
        }
    }

    private async Task ReadSealedIdsAsync()
    {
        // All pages first, then remembered together: a read that fails half way leaves nothing half remembered.
        var pages = new List<string[]>();
        for (var page = Math.Max(S.FirstPage, S.NextPage - RememberedPages); page < S.NextPage; page++)
        {
            pages.Add([.. (await Page(page).GetAsync()).Select(e => e.Event.EventId)]);
        }

        foreach (var ids in pages)
        {
            Remember(ids);
        }
    }

    private void Remember(string[] sealedIds)
    {
        _sealedIds.Enqueue(sealedIds);
        _recentIds.UnionWith(sealedIds);
        while (_sealedIds.Count > RememberedPages)
        {
            _recentIds.ExceptWith(_sealedIds.Dequeue());
        }
    }

    public async Task AppendAsync(ResourceEvent[] events)
    {
        // A relay hands an event over again after a crash between the hand-off and its outbox write: a replay is
        // recognised by id among the open page and the last sealed pages (a replay older than that would show twice).
        await RememberSealedPagesAsync();
        foreach (var @event in events)
        {
            if (_recentIds.Add(@event.EventId))
            {
                var entry = new FeedEntry(_nextPosition++, @event);
                _open.Add(entry);
                Log.Put(entry);
            }
        }

        // Also when nothing was new: a replay after a failed write finds its events in memory, not yet stored.
        var upTo = _nextPosition - 1;
        await Log.SaveAsync();
        _durable = Math.Max(_durable, upTo);
        await SealFullPagesAsync();
    }

    public async Task<FeedEntry[]> ReadAsync(long afterPosition, int limit)
    {
        var horizon = clock.UtcNow - EventFeed.Retention;
        var durable = _durable;
        var result = new List<FeedEntry>(limit);
        for (var page = Math.Max(S.FirstPage, afterPosition / EventFeed.PageSize); page < S.NextPage; page++)
        {
            foreach (var entry in await Page(page).GetAsync())
            {
                if (entry.Position > durable)
                {
                    return [.. result];
                }

                if (entry.Position > afterPosition && entry.Event.Timestamp >= horizon)
                {
                    result.Add(entry);
                    if (result.Count == limit)
                    {
                        return [.. result];
                    }
                }
            }
        }

        var from = result.Count > 0 ? result[^1].Position : afterPosition;
        foreach (var entry in _open.ToArray())
        {
            if (entry.Position > durable)
            {
                break;
            }

            if (entry.Position > from && entry.Event.Timestamp >= horizon)
            {
                result.Add(entry);
                if (result.Count == limit)
                {
                    break;
                }
            }
        }

        return [.. result];
    }

    /// <summary>
    /// Moves full pages of stored entries out of the open page: the page grain is written first, then the shard's state
    /// moves past it, then the log drops its entries with its next write, so an entry is always in the page or the log
    /// (a crash in between leaves it in both, the load skips the page's positions, and the next seal writes the same
    /// page again). One seal at a time.
    /// </summary>
    private async Task SealFullPagesAsync()
    {
        if (_sealing)
        {
            return;
        }

        _sealing = true;
        try
        {
            var changed = false;
            while (_open.Count >= EventFeed.PageSize && _open[EventFeed.PageSize - 1].Position <= _durable)
            {
                var entries = _open.GetRange(0, EventFeed.PageSize).ToArray();
                var number = S.NextPage;
                await Page(number).SaveAsync(entries);
                S.NextPage = number + 1;
                await state.WriteOrReloadAsync(this, logger);
                _open.RemoveRange(0, entries.Length);
                foreach (var entry in entries)
                {
                    Log.Remove(LogKey(entry.Position));
                }

                Remember([.. entries.Select(e => e.Event.EventId)]);
            }

            var horizon = clock.UtcNow - EventFeed.Retention;
            while (S.FirstPage < S.NextPage)
            {
                _firstPageLastAt ??= await Page(S.FirstPage).GetAsync() is { Length: > 0 } oldest ? oldest[^1].Event.Timestamp : DateTimeOffset.MinValue;
                if (_firstPageLastAt >= horizon)
                {
                    break;
                }

                var expired = S.FirstPage;
                S.FirstPage++;
                changed = true;
                _firstPageLastAt = null;
                try
                {
                    await Page(expired).ClearAsync();
                }
                catch (Exception ex)
                {
                    logger.LogDebug(ex, "Clearing expired feed page {Page} failed; it is unreachable anyway", expired);
                }
            }

            if (changed)
            {
                await state.WriteOrReloadAsync(this, logger);
            }
        }
        finally
        {
            _sealing = false;
        }
    }

    private static string LogKey(long position) => position.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private IEventFeedPageGrain Page(long number) =>
        GrainFactory.Get<IEventFeedPageGrain>(this.GetPrimaryKeyString() + "@" + number.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

[GenerateSerializer, Alias("LiveGrains.EventFeedPageState")]
public sealed class EventFeedPageState
{
    [Id(0)]
    public FeedEntry[] Entries { get; set; } = [];
}

/// <summary>A sealed page of a feed shard: written once (idempotent), read many times.</summary>
public sealed class EventFeedPageGrain(
    [PersistentState("feed-page", LiveGrainsStorage.State)] IPersistentState<EventFeedPageState> state,
    ILogger<EventFeedPageGrain> logger) : Grain, IEventFeedPageGrain
{
    public async Task SaveAsync(FeedEntry[] entries)
    {
        state.State.Entries = entries;
        await state.WriteOrReloadAsync(this, logger);

        // Written once and read rarely (a reader catching up): a sealed page need not stay in memory until idle
        // collection. Under a go-live load the activated pages of 64 Live bodies each were most of the gateway's growth.
        DeactivateOnIdle();
    }

    public Task<FeedEntry[]> GetAsync() => Task.FromResult(state.State.Entries);

    public async Task ClearAsync()
    {
        if (state.RecordExists)
        {
            await state.ClearStateAsync();
        }
    }
}

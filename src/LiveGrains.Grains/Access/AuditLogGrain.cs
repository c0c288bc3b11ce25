using System.Globalization;
using LiveGrains.Abstractions;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Access;

[GenerateSerializer, Alias("LiveGrains.AuditLogState")]
public sealed class AuditLogState
{
    /// <summary>Pages of <see cref="AuditLogGrain.PageSize"/> ids already handed to page grains.</summary>
    [Id(0)] public long FullPages { get; set; }

    /// <summary>The retained entries of page <see cref="FullPages"/>, after the <see cref="CurrentDropped"/> that expired.</summary>
    [Id(1)] public List<AuditEntry> Current { get; set; } = [];

    /// <summary>Pages below this one expired and were dropped from storage.</summary>
    [Id(2)] public long FirstPage { get; set; }

    /// <summary>Entries of the current page that expired before it filled (its first ids), so numbering goes on.</summary>
    [Id(3)] public int CurrentDropped { get; set; }
}

/// <summary>
/// A tenant's audit log. Entry ids are a per-tenant sequence from 1, so a cursor is a number and page <c>n</c>
/// holds ids <c>n*PageSize+1 .. (n+1)*PageSize</c>: a query finds its first page without an index.
/// Retention (<see cref="AuditOptions.RetentionDays"/>): a query never returns an entry older than the retention period,
/// and each append drops the expired entries at the front of the log (whole pages, whose grains are cleared, and the
/// current page's oldest entries). A tenant that records nothing keeps its expired pages in storage until it does.
/// </summary>
public sealed class AuditLogGrain(
    [PersistentState("audit", LiveGrainsStorage.State)] IPersistentState<AuditLogState> state,
    LiveGrainsClock clock,
    IOptions<AuditOptions> options) : Grain, IAuditLogGrain
{
    public const int PageSize = 200;

    /// <summary>Pages one query reads at most, so a filter that matches nothing cannot make one call read the whole history.</summary>
    public const int MaxPagesPerQuery = 16;

    /// <summary>Expired pages one append drops at most, so catching up on a long-idle log is spread over appends.</summary>
    public const int MaxPagesDroppedPerAppend = 16;

    /// <summary>The newest entry time of page <see cref="AuditLogState.FirstPage"/>, once read: expiry then costs no read.</summary>
    private (long Page, DateTimeOffset Newest)? _firstPageNewest;

    private DateTimeOffset Cutoff => clock.UtcNow - options.Value.Retention;

    public async Task AppendAsync(IReadOnlyList<AuditRecord> records)
    {
        var log = state.State;
        foreach (var record in records)
        {
            if (log.CurrentDropped + log.Current.Count >= PageSize)
            {
                // Storing a page is idempotent, so a failed write below just stores it again on the next append.
                await Page(log.FullPages).StoreAsync(log.Current);
                if (log.FullPages == log.FirstPage)
                {
                    // Expiry needs the first page's newest time: known now, so the stored page is not read back
                    // (which would reactivate it for the idle collection age).
                    _firstPageNewest = (log.FirstPage, log.Current.Count == 0 ? DateTimeOffset.MinValue : log.Current.Max(e => e.At));
                }

                log.FullPages++;
                log.Current = [];
                log.CurrentDropped = 0;
            }

            var sequence = (log.FullPages * PageSize) + log.CurrentDropped + log.Current.Count + 1;
            log.Current.Add(new AuditEntry(
                sequence.ToString(CultureInfo.InvariantCulture), record.At, record.Actor, record.Action, record.Resource, record.ResourceType, record.Outcome, record.Status));
        }

        await DropExpiredAsync();
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Memory is ahead of storage (entries numbered but not stored): start again from storage; the gateway retries.
            DeactivateOnIdle();
            throw;
        }
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query)
    {
        var log = state.State;
        var cutoff = Cutoff;
        var items = new List<AuditEntry>(query.Limit);
        var page = Math.Max(log.FirstPage, Math.Max(0, query.After) / PageSize);
        var last = query.After;
        for (var read = 0; page <= log.FullPages && read < MaxPagesPerQuery; page++, read++)
        {
            var entries = page < log.FullPages ? await Page(page).GetAsync() : log.Current;
            foreach (var entry in entries)
            {
                var sequence = long.Parse(entry.Id, CultureInfo.InvariantCulture);
                if (sequence <= query.After)
                {
                    continue;
                }

                last = sequence;
                if (entry.At >= cutoff && Matches(entry, query))
                {
                    items.Add(entry);
                    if (items.Count == query.Limit)
                    {
                        return new AuditPage(items, More(sequence) ? entry.Id : null);
                    }
                }
            }
        }

        // Stopped by the page bound with entries left: the cursor moves past what was scanned, even if nothing matched.
        return new AuditPage(items, More(last) ? last.ToString(CultureInfo.InvariantCulture) : null);
    }

    /// <summary>
    /// Drops whole expired pages from the front (a page expires with its newest entry), then the current page's expired
    /// first entries. Entries are appended in about the order they happened, so expiry only ever eats the front.
    /// </summary>
    private async Task DropExpiredAsync()
    {
        var log = state.State;
        var cutoff = Cutoff;
        for (var dropped = 0; log.FirstPage < log.FullPages && dropped < MaxPagesDroppedPerAppend; dropped++)
        {
            if (_firstPageNewest is not { } known || known.Page != log.FirstPage)
            {
                var entries = await Page(log.FirstPage).GetAsync();
                known = (log.FirstPage, entries.Count == 0 ? DateTimeOffset.MinValue : entries.Max(e => e.At));
                _firstPageNewest = known;
            }

            if (known.Newest >= cutoff)
            {
                return;
            }

            await Page(log.FirstPage).ClearAsync();
            log.FirstPage++;
        }

        if (log.FirstPage == log.FullPages)
        {
            var expired = 0;
            while (expired < log.Current.Count && log.Current[expired].At < cutoff)
            {
                expired++;
            }

            if (expired > 0)
            {
                log.Current.RemoveRange(0, expired);
                log.CurrentDropped += expired;
            }
        }
    }

    private bool More(long sequence) =>
        sequence < (state.State.FullPages * PageSize) + state.State.CurrentDropped + state.State.Current.Count;

    private static bool Matches(AuditEntry entry, AuditQuery query) =>
        (query.Resource is null || string.Equals(entry.Resource, query.Resource, StringComparison.Ordinal))
        && (query.Actor is null || string.Equals(entry.Actor.Id, query.Actor, StringComparison.Ordinal)
            || string.Equals(entry.Actor.Type + ":" + entry.Actor.Id, query.Actor, StringComparison.Ordinal));

    private IAuditPageGrain Page(long page) =>
        GrainFactory.Get<IAuditPageGrain>(TenantKey.Compose(this.GetPrimaryKeyString(), page.ToString(CultureInfo.InvariantCulture)));
}

[GenerateSerializer, Alias("LiveGrains.AuditPageState")]
public sealed class AuditPageState
{
    [Id(0)] public List<AuditEntry> Entries { get; set; } = [];
}

/// <summary>One full page of an audit log; written once (again only by an identical retry), cleared when it expires.</summary>
public sealed class AuditPageGrain(
    [PersistentState("audit-page", LiveGrainsStorage.State)] IPersistentState<AuditPageState> state) : Grain, IAuditPageGrain
{
    public async Task StoreAsync(IReadOnlyList<AuditEntry> entries)
    {
        state.State.Entries = [.. entries];
        await state.WriteStateAsync();

        // Written once and read only by audit queries: 200 entries need not stay in memory for Orleans' idle
        // collection age (a busy tenant fills a page every 200 requests; docs/benchmarks.md, run M).
        DeactivateOnIdle();
    }

    public Task<IReadOnlyList<AuditEntry>> GetAsync() => Task.FromResult<IReadOnlyList<AuditEntry>>(state.State.Entries);

    public async Task ClearAsync()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }
}

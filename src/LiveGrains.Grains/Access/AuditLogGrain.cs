using System.Globalization;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Access;

[GenerateSerializer, Alias("LiveGrains.AuditLogState")]
public sealed class AuditLogState
{
    /// <summary>Pages of <see cref="AuditLogGrain.PageSize"/> entries already handed to page grains.</summary>
    [Id(0)] public long FullPages { get; set; }

    /// <summary>The entries of page <see cref="FullPages"/>, at most one page.</summary>
    [Id(1)] public List<AuditEntry> Current { get; set; } = [];
}

/// <summary>
/// A tenant's audit log. Entry ids are a per-tenant sequence from 1, so a cursor is a number and page <c>n</c>
/// holds ids <c>n*PageSize+1 .. (n+1)*PageSize</c>: a query finds its first page without an index.
/// </summary>
public sealed class AuditLogGrain(
    [PersistentState("audit", LiveGrainsStorage.State)] IPersistentState<AuditLogState> state) : Grain, IAuditLogGrain
{
    public const int PageSize = 200;

    /// <summary>Pages one query reads at most, so a filter that matches nothing cannot make one call read the whole history.</summary>
    public const int MaxPagesPerQuery = 16;

    public async Task AppendAsync(IReadOnlyList<AuditRecord> records)
    {
        var log = state.State;
        foreach (var record in records)
        {
            if (log.Current.Count >= PageSize)
            {
                // Storing a page is idempotent, so a failed write below just stores it again on the next append.
                await Page(log.FullPages).StoreAsync(log.Current);
                log.FullPages++;
                log.Current = [];
            }

            var sequence = (log.FullPages * PageSize) + log.Current.Count + 1;
            log.Current.Add(new AuditEntry(
                sequence.ToString(CultureInfo.InvariantCulture), record.At, record.Actor, record.Action, record.Resource, record.ResourceType, record.Outcome, record.Status));
        }

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
        var items = new List<AuditEntry>(query.Limit);
        var page = Math.Max(0, query.After) / PageSize;
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
                if (Matches(entry, query))
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

    private bool More(long sequence) => sequence < (state.State.FullPages * PageSize) + state.State.Current.Count;

    private static bool Matches(AuditEntry entry, AuditQuery query) =>
        (query.Resource is null || string.Equals(entry.Resource, query.Resource, StringComparison.Ordinal))
        && (query.Actor is null || string.Equals(entry.Actor.Id, query.Actor, StringComparison.Ordinal)
            || string.Equals(entry.Actor.Type + ":" + entry.Actor.Id, query.Actor, StringComparison.Ordinal));

    private IAuditPageGrain Page(long page) =>
        GrainFactory.GetGrain<IAuditPageGrain>(TenantKey.Compose(this.GetPrimaryKeyString(), page.ToString(CultureInfo.InvariantCulture)));
}

[GenerateSerializer, Alias("LiveGrains.AuditPageState")]
public sealed class AuditPageState
{
    [Id(0)] public List<AuditEntry> Entries { get; set; } = [];
}

/// <summary>One full page of an audit log; written once (again only by an identical retry).</summary>
public sealed class AuditPageGrain(
    [PersistentState("audit-page", LiveGrainsStorage.State)] IPersistentState<AuditPageState> state) : Grain, IAuditPageGrain
{
    public async Task StoreAsync(IReadOnlyList<AuditEntry> entries)
    {
        state.State.Entries = [.. entries];
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<AuditEntry>> GetAsync() => Task.FromResult<IReadOnlyList<AuditEntry>>(state.State.Entries);
}

using LiveGrains.Abstractions;
using LiveGrains.Grains.Access;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace LiveGrains.Grains.Tests.Access;

/// <summary>A cluster of its own whose clock the retention tests move by days without disturbing other tests.</summary>
public sealed class AuditRetentionCluster : IAsyncLifetime
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var clock = new LiveGrainsClock(Time);
        Cluster = await TestClusters.DeployAsync(
            1,
            silo =>
            {
                silo.AddMemoryGrainStorage(LiveGrainsStorage.State);
                silo.Services.AddSingleton(clock);
            },
            new Dictionary<string, string?> { ["Audit:RetentionDays"] = "7" });
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

public sealed class AuditRetentionTests(AuditRetentionCluster fixture) : IClassFixture<AuditRetentionCluster>
{
    private IAuditLogGrain NewLog(out string tenant)
    {
        tenant = "t-" + Guid.NewGuid().ToString("N")[..8];
        return fixture.Cluster.Client.GetGrain<IAuditLogGrain>(tenant);
    }

    [Fact]
    public async Task EntriesPastTheRetentionPeriodAreNotReturnedAndTheirPagesAreDropped()
    {
        var log = NewLog(out var tenant);
        const int old = (AuditLogGrain.PageSize * 2) + 50;
        await log.AppendAsync(Records(old, "old"));
        Assert.Equal(old, (await ReadAllAsync(log)).Count);

        // Eight days on, with a retention of seven: nothing recorded then is returned, even before anything is dropped.
        fixture.Time.Advance(TimeSpan.FromDays(8));
        Assert.Empty(await ReadAllAsync(log));
        Assert.Empty((await log.QueryAsync(new AuditQuery("r-old", null, 0, 10))).Items);

        // The next append drops the expired full pages and the current page's expired entries; numbering goes on.
        await log.AppendAsync(Records(3, "new"));
        var kept = await ReadAllAsync(log);
        Assert.Equal(["451", "452", "453"], kept.Select(e => e.Id));
        Assert.All(kept, e => Assert.Equal("r-new", e.Resource));
        Assert.Empty(await Page(tenant, 0).GetAsync());
        Assert.Empty(await Page(tenant, 1).GetAsync());

        // The log keeps paging out and numbering after a drop that emptied its current page.
        await log.AppendAsync(Records(AuditLogGrain.PageSize, "more"));
        var all = await ReadAllAsync(log);
        Assert.Equal(3 + AuditLogGrain.PageSize, all.Count);
        Assert.Equal(Enumerable.Range(451, all.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), all.Select(e => e.Id));
        Assert.NotEmpty(await Page(tenant, 2).GetAsync());
    }

    [Fact]
    public async Task EntriesInsideTheRetentionPeriodStayAndACursorFromBeforeADropStillWorks()
    {
        var log = NewLog(out _);
        await log.AppendAsync(Records(AuditLogGrain.PageSize + 10, "a"));
        fixture.Time.Advance(TimeSpan.FromDays(6));
        await log.AppendAsync(Records(5, "b"));
        Assert.Equal(AuditLogGrain.PageSize + 15, (await ReadAllAsync(log)).Count);

        // Two more days: the first batch expires (retention 7), the second (2 days old) stays.
        var cursor = (await log.QueryAsync(new AuditQuery(null, null, 0, 3))).NextCursor;
        fixture.Time.Advance(TimeSpan.FromDays(2));
        await log.AppendAsync(Records(1, "c"));
        var kept = await ReadAllAsync(log);
        Assert.Equal(6, kept.Count);
        Assert.Equal(["r-b", "r-b", "r-b", "r-b", "r-b", "r-c"], kept.Select(e => e.Resource));
        var afterOldCursor = await log.QueryAsync(new AuditQuery(null, null, long.Parse(cursor!, System.Globalization.CultureInfo.InvariantCulture), 100));
        Assert.Equal(kept.Select(e => e.Id), afterOldCursor.Items.Select(e => e.Id));
    }

    private List<AuditRecord> Records(int count, string name) =>
        [.. Enumerable.Range(0, count).Select(_ => new AuditRecord(fixture.Time.GetUtcNow(), new AuditActor("key", "k-" + name), "update_room", "r-" + name, "room", "success", 200))];

    private IAuditPageGrain Page(string tenant, int page) =>
        fixture.Cluster.Client.GetGrain<IAuditPageGrain>(TenantKey.Compose(tenant, page.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static async Task<List<AuditEntry>> ReadAllAsync(IAuditLogGrain log)
    {
        var items = new List<AuditEntry>();
        long after = 0;
        while (true)
        {
            var page = await log.QueryAsync(new AuditQuery(null, null, after, 50));
            items.AddRange(page.Items);
            if (page.NextCursor is null)
            {
                return items;
            }

            after = long.Parse(page.NextCursor, System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}

using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// One shard of a tenant's event feed (<c>GET /v1/events</c>), keyed <c>tenant/shard</c>: an append-only log of the
/// events of the resources that hash to it, each with a gap-free position. A resource always hashes to the same
/// shard and its events arrive in sequence order, so a shard keeps each resource's order.
/// </summary>
[Alias("LiveGrains.IEventFeedShardGrain")]
public interface IEventFeedShardGrain : IGrainWithStringKey
{
    /// <summary>Appends the events (an event already held is ignored); durable when it returns.</summary>
    [Alias("Append")]
    Task AppendAsync(ResourceEvent[] events);

    /// <summary>Up to <paramref name="limit"/> entries after <paramref name="afterPosition"/>, oldest first, within the retention.</summary>
    [Alias("Read"), ReadOnly]
    Task<FeedEntry[]> ReadAsync(long afterPosition, int limit);
}

/// <summary>A sealed page of a feed shard (keyed <c>tenant/shard@page</c>): written once, read by the feed.</summary>
[Alias("LiveGrains.IEventFeedPageGrain")]
public interface IEventFeedPageGrain : IGrainWithStringKey
{
    [Alias("Save")]
    Task SaveAsync(FeedEntry[] entries);

    [Alias("Get"), ReadOnly]
    Task<FeedEntry[]> GetAsync();

    /// <summary>Drops the page's events (past the retention).</summary>
    [Alias("Clear")]
    Task ClearAsync();
}

/// <summary>An event at its position in its feed shard.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.FeedEntry")]
public sealed record FeedEntry(
    [property: Id(0)] long Position,
    [property: Id(1)] ResourceEvent Event);

/// <summary>The feed's layout: part of the stored format and of every cursor.</summary>
public static class EventFeed
{
    public const int Shards = 8;

    /// <summary>
    /// Events per sealed page. Page n holds positions n x PageSize + 1 to (n + 1) x PageSize, so no list of pages is
    /// stored; the open page is written with every append, so it is kept small (a full page of Live bodies is ~100 KB).
    /// </summary>
    public const int PageSize = 64;

    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    /// <summary>FNV-1a of the resource's type and id: a resource's events always land in one shard (its order).</summary>
    public static int ShardOf(string resourceType, string resourceId)
    {
        var hash = 2166136261u;
        foreach (var c in resourceType + ":" + resourceId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % Shards);
    }

    public static string ShardKey(string tenant, int shard) => TenantKey.Compose(tenant, "feed#" + shard.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Listing;

/// <summary>The one order of every listing: highest key first, ties by id, highest first (ids sort by creation).</summary>
public sealed class IndexOrder : IComparer<IndexHit>
{
    public static readonly IndexOrder Instance = new();

    public int Compare(IndexHit x, IndexHit y)
    {
        var byKey = y.Key.CompareTo(x.Key);
        return byKey != 0 ? byKey : string.CompareOrdinal(y.Id, x.Id);
    }

    /// <summary>True when <paramref name="hit"/> comes strictly after <paramref name="after"/> (any hit does after null).</summary>
    public static bool IsAfter(IndexHit hit, IndexHit? after) => after is not { } a || Instance.Compare(hit, a) > 0;

    /// <summary>Up to <paramref name="limit"/> members of <paramref name="set"/> strictly after <paramref name="after"/>.</summary>
    public static IEnumerable<IndexHit> After(SortedSet<IndexHit> set, IndexHit? after, int limit)
    {
        if (set.Count == 0)
        {
            return [];
        }

        IEnumerable<IndexHit> view = set;
        if (after is { } a)
        {
            if (Instance.Compare(a, set.Max) >= 0)
            {
                return [];
            }

            // O(log n) to the cursor, then walk: a page costs the same on the first and the 10,000th page.
            view = Instance.Compare(a, set.Min) < 0 ? set : set.GetViewBetween(a, set.Max);
        }

        return view.Where(h => IsAfter(h, after)).Take(limit);
    }

    public static long Ticks(DateTimeOffset? at) => at?.UtcTicks ?? -1;
}

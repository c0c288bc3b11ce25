namespace LiveGrains.Abstractions;

/// <summary>
/// References to <typeparamref name="TGrain"/> grains with its grain type and interface type resolved once.
/// <c>GrainFactory.GetGrain&lt;T&gt;(key)</c> formats the interface's type name through Orleans' type converter on
/// every call (reflection included): about 2% of a join's CPU in a profile of the gateway (docs/profiling-joins.md).
/// Every string-keyed reference in LiveGrains is made through it (<see cref="GrainFactoryExtensions.Get{TGrain}"/>).
/// </summary>
public static class GrainReferences<TGrain> where TGrain : IGrainWithStringKey
{
    // The types follow from the interface and the grain classes of the cluster, so every host in the process
    // resolves the same pair.
    private static (GrainType Type, GrainInterfaceType Interface)? _types;

    public static TGrain Get(IGrainFactory grains, string key)
    {
        if (_types is { } types)
        {
            return (TGrain)grains.GetGrain(GrainId.Create(types.Type, key), types.Interface);
        }

        // The first reference is made the usual way and teaches the types (a test's fake factory returns no GrainReference
        // and teaches nothing).
        var grain = grains.GetGrain<TGrain>(key);
        if (grain is GrainReference reference)
        {
            _types = (reference.GrainId.Type, reference.InterfaceType);
        }

        return grain;
    }
}

/// <summary>The way every string-keyed grain reference is made in LiveGrains (see <see cref="GrainReferences{TGrain}"/>).</summary>
public static class GrainFactoryExtensions
{
    /// <summary>
    /// <c>GetGrain&lt;TGrain&gt;(key)</c> without Orleans' per-call resolution of the interface's type: in a profile of
    /// go-live (docs/benchmarks.md, run L) that resolution was 3.8% of the gateway's CPU, most of it in the webhook sink,
    /// the lives index push, the archive and the feed hand-off.
    /// </summary>
    public static TGrain Get<TGrain>(this IGrainFactory grains, string key) where TGrain : IGrainWithStringKey =>
        GrainReferences<TGrain>.Get(grains, key);
}

namespace LiveGrains.Abstractions;

/// <summary>
/// References to <typeparamref name="TGrain"/> grains with its grain type and interface type resolved once.
/// <c>GrainFactory.GetGrain&lt;T&gt;(key)</c> formats the interface's type name through Orleans' type converter on
/// every call (reflection included): about 2% of a join's CPU in a profile of the gateway (docs/profiling-joins.md).
/// Used on the hot paths (go-live, transitions, reads of a live, joins).
/// </summary>
public static class GrainReferences<TGrain> where TGrain : IGrainWithStringKey
{
    // The types follow from the interface and the grain classes of the cluster, so every host in the process
    // resolves the same pair.
    private static (GrainType Type, GrainInterfaceType Interface)? _types;

    public static TGrain Get(IGrainFactory grains, string key)
    {
        var (type, @interface) = _types ??= Resolve(grains);
        return (TGrain)grains.GetGrain(GrainId.Create(type, key), @interface);
    }

    private static (GrainType, GrainInterfaceType) Resolve(IGrainFactory grains)
    {
        var reference = (GrainReference)(object)grains.GetGrain<TGrain>("-");
        return (reference.GrainId.Type, reference.InterfaceType);
    }
}

namespace LiveGrains.Grains;

/// <summary>Names of the grain storage providers the silo configures (memory, Redis or Azure Blob; Storage:Provider).</summary>
public static class LiveGrainsStorage
{
    /// <summary>Lifecycle and configuration state: written on every transition, before it is acknowledged.</summary>
    public const string State = "live-state";
}

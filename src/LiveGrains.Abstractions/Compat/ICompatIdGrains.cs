using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// A per-tenant, per-kind counter of integer ids (keyed <c>tenant/platform/kind</c>) for the seed platforms whose APIs
/// name resources by integer (Gcore's streams, broadcasts and videos). Durable: a number is never handed out twice.
/// </summary>
[Alias("LiveGrains.ICompatIdSequenceGrain")]
public interface ICompatIdSequenceGrain : IGrainWithStringKey
{
    [Alias("Next")]
    Task<long> NextAsync();
}

/// <summary>
/// One direction of one id mapping (keyed <c>tenant/platform/kind/#number</c> or <c>tenant/platform/kind/@livegrains-id</c>):
/// one small grain per link keeps every state bounded however many resources a tenant has (docs/compat.md).
/// </summary>
[Alias("LiveGrains.ICompatIdLinkGrain")]
public interface ICompatIdLinkGrain : IGrainWithStringKey
{
    [Alias("Get"), ReadOnly]
    Task<string?> GetAsync();

    [Alias("Set")]
    Task SetAsync(string? value);

    /// <summary>Sets the value unless one is set; answers the value that holds (two racing writers agree on one).</summary>
    [Alias("GetOrSet")]
    Task<string> GetOrSetAsync(string value);
}

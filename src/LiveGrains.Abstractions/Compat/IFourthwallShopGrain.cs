using Orleans.Concurrency;

namespace LiveGrains.Abstractions;

/// <summary>
/// A tenant's Fourthwall shop (keyed by tenant): the streaming services (Twitch channels) it announces, for
/// <c>/compat/fourthwall</c>. Status only: whether a service is ONLINE is not stored here but read from the shop's
/// room (ONLINE exactly while it has a live on air, as api.md says of status-only destinations), so a live ended
/// through any API shows OFFLINE at once.
/// </summary>
[Alias("LiveGrains.IFourthwallShopGrain")]
public interface IFourthwallShopGrain : IGrainWithStringKey
{
    public const int MaxServices = 16;

    /// <summary>Adds or replaces services (by type and broadcaster id); writes only when something changed. Answers them all.</summary>
    [Alias("SetServices")]
    Task<FourthwallService[]> SetServicesAsync(FourthwallService[] services);

    [Alias("GetServices"), ReadOnly]
    Task<FourthwallService[]> GetServicesAsync();
}

[GenerateSerializer, Immutable, Alias("LiveGrains.FourthwallService")]
public sealed record FourthwallService(
    [property: Id(0)] string Type,
    [property: Id(1)] string BroadcasterId,
    [property: Id(2)] string BroadcasterLogin,
    [property: Id(3)] string? ThumbnailUrl);

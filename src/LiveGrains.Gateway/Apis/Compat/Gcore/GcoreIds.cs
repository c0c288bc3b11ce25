using System.Globalization;
using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Apis.Compat.Gcore;

/// <summary>
/// Gcore's integer ids for a tenant's LiveGrains resources, both ways: a durable per-tenant counter per kind
/// (<see cref="ICompatIdSequenceGrain"/>) and one link grain per direction (<see cref="ICompatIdLinkGrain"/>). Every key
/// starts with the tenant, so another tenant's number resolves to nothing.
/// </summary>
public sealed class GcoreIds(IGrainFactory grains, string tenant)
{
    public const string Stream = "stream";
    public const string Broadcast = "broadcast";
    public const string Video = "video";

    public Task<long> NextAsync(string kind) => grains.GetGrain<ICompatIdSequenceGrain>($"{tenant}/gcore/{kind}").NextAsync();

    /// <summary>Links both ways; the number first, so a crash in between leaves a number that resolves and nothing dangling.</summary>
    public async Task LinkAsync(string kind, long number, string id)
    {
        await Forward(kind, number).SetAsync(id);
        await Backward(kind, id).SetAsync(number.ToString(CultureInfo.InvariantCulture));
    }

    public Task<string?> ResolveAsync(string kind, long number) => Forward(kind, number).GetAsync();

    public async Task<long?> NumberOfAsync(string kind, string id) =>
        long.TryParse(await Backward(kind, id).GetAsync(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    public async Task UnlinkAsync(string kind, long number, string id)
    {
        await Forward(kind, number).SetAsync(null);
        await Backward(kind, id).SetAsync(null);
    }

    private ICompatIdLinkGrain Forward(string kind, long number) =>
        grains.GetGrain<ICompatIdLinkGrain>($"{tenant}/gcore/{kind}/#{number.ToString(CultureInfo.InvariantCulture)}");

    private ICompatIdLinkGrain Backward(string kind, string id) => grains.GetGrain<ICompatIdLinkGrain>($"{tenant}/gcore/{kind}/@{id}");
}

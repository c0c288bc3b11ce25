using System.Globalization;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Compat;

/// <summary>
/// Gcore's integer ids for a tenant's LiveGrains resources, both ways: a durable per-tenant counter per kind
/// (<see cref="ICompatIdSequenceGrain"/>) and one link grain per direction (<see cref="ICompatIdLinkGrain"/>). Every key
/// starts with the tenant, so another tenant's number resolves to nothing. Shared by the Gcore API (gateway) and the
/// Gcore webhook format (silo), which name the same resources with the same numbers.
/// </summary>
public sealed class GcoreIds(IGrainFactory grains, string tenant)
{
    public const string Stream = "stream";
    public const string Broadcast = "broadcast";
    public const string Video = "video";

    /// <summary>Links a Gcore video's key (<see cref="GcoreVideos.Key"/>) to the LiveGrains video of its file.</summary>
    private const string VideoFile = "video-file";

    public Task<long> NextAsync(string kind) => grains.Get<ICompatIdSequenceGrain>($"{tenant}/gcore/{kind}").NextAsync();

    /// <summary>Links both ways; the number first, so a crash in between leaves a number that resolves and nothing dangling.</summary>
    public async Task LinkAsync(string kind, long number, string id)
    {
        await Forward(kind, number).SetAsync(id);
        await Backward(kind, id).SetAsync(number.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The number of <paramref name="id"/>, handing out one if it has none. Two callers racing (the API's stop_recording
    /// and the webhook format seeing the video's file) agree on one number through <see cref="ICompatIdLinkGrain.GetOrSetAsync"/>;
    /// the loser's number stays unused. The forward link is (re)written every time, so a crash between the two links heals
    /// on the next call.
    /// </summary>
    public async Task<long> NumberOrNextAsync(string kind, string id)
    {
        if (await NumberOfAsync(kind, id) is not { } number)
        {
            var next = await NextAsync(kind);
            number = long.Parse(await Backward(kind, id).GetOrSetAsync(next.ToString(CultureInfo.InvariantCulture)), NumberStyles.None, CultureInfo.InvariantCulture);
        }

        await Forward(kind, number).SetAsync(id);
        return number;
    }

    public Task<string?> ResolveAsync(string kind, long number) => Forward(kind, number).GetAsync();

    public async Task<long?> NumberOfAsync(string kind, string id) =>
        long.TryParse(await Backward(kind, id).GetAsync(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>
    /// Forgets the number (it no longer resolves); the reverse link stays, so events of the resource that are still on
    /// their way to a Gcore-format webhook keep naming it by the number its client knew.
    /// </summary>
    public Task UnlinkAsync(string kind, long number) => Forward(kind, number).SetAsync(null);

    public Task LinkFileAsync(string videoKey, string videoId) => Backward(VideoFile, videoKey).SetAsync(videoId);

    public Task<string?> FileOfAsync(string videoKey) => Backward(VideoFile, videoKey).GetAsync();

    private ICompatIdLinkGrain Forward(string kind, long number) =>
        grains.Get<ICompatIdLinkGrain>($"{tenant}/gcore/{kind}/#{number.ToString(CultureInfo.InvariantCulture)}");

    private ICompatIdLinkGrain Backward(string kind, string id) => grains.Get<ICompatIdLinkGrain>($"{tenant}/gcore/{kind}/@{id}");
}

using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Lives;

/// <summary>The archived record of an ended live; empty while its room owns the live.</summary>
[GenerateSerializer, Alias("LiveGrains.LiveState")]
public sealed class LiveState
{
    [Id(0)]
    public string Tenant { get; set; } = string.Empty;

    [Id(6)]
    public LiveArchive? Archive { get; set; }
}

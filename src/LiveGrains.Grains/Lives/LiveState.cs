using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Lives;

/// <summary>How <see cref="LiveArchives"/> stores an ended live's final record (under the live grain's state key).</summary>
[GenerateSerializer, Alias("LiveGrains.LiveState")]
public sealed class LiveState
{
    [Id(0)]
    public string Tenant { get; set; } = string.Empty;

    [Id(6)]
    public LiveArchive? Archive { get; set; }
}

using LiveGrains.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Stats;

/// <summary>Configuration section <c>Stats</c>.</summary>
public sealed class StatsOptions
{
    /// <summary>A viewer leaves after this long without a join or heartbeat.</summary>
    public int ViewerTimeoutSeconds { get; set; } = 60;

    /// <summary>How often a silo's pre-aggregator flushes a live's buffered activity to its stats grain.</summary>
    public int FlushIntervalMilliseconds { get; set; } = 100;

    /// <summary>How often changed stats are written behind; with the flush interval and one write this bounds the loss on kill -9 (&lt; 5 s).</summary>
    public double PersistIntervalSeconds { get; set; } = 2;

    /// <summary>
    /// The silo's viewer-set bytes written behind at once (<see cref="StatsWriteBudget"/>); a live whose write does not
    /// fit is written on a later tick. Bounds what waits in the storage client, ahead of the membership reads.
    /// </summary>
    public long WriteBehindBytesInFlight { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// How long a previous activation of a live's stats may still be finishing its last write after this one read the
    /// stored stats (a silo stopping gracefully: the host's shutdown timeout). A new activation reads storage again
    /// 2 s after it started and once more after this long, and takes in what such a write stored.
    /// </summary>
    public double PredecessorWriteWindowSeconds { get; set; } = 30;
}

public sealed class StatsOptionsValidator : IValidateOptions<StatsOptions>
{
    /// <summary>Below this a single live's sets would rarely fit, and most writes would go alone.</summary>
    public const long MinWriteBehindBytesInFlight = 64 * 1024;

    public ValidateOptionsResult Validate(string? name, StatsOptions options) =>
        options.WriteBehindBytesInFlight >= MinWriteBehindBytesInFlight
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Stats:{nameof(StatsOptions.WriteBehindBytesInFlight)} must be at least {MinWriteBehindBytesInFlight} (got {options.WriteBehindBytesInFlight}).");
}

public static class StatsServiceCollectionExtensions
{
    /// <summary>Stats options, the silo-wide activity buffers, the write-behind budget and the silo's pump of audiences to the lives index.</summary>
    public static IServiceCollection AddLiveStats(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StatsOptions>().Bind(configuration.GetSection("Stats")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StatsOptions>, StatsOptionsValidator>();
        services.AddSingleton<LiveActivityBuffers>();
        services.AddSingleton<StatsWriteBudget>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, LiveActivityShutdownFlush>();
        services.AddSingleton<LiveViewerCounts>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<LiveViewerCounts>());
        return services;
    }
}

/// <summary>The persisted stats of a live, separate from the lifecycle state "live".</summary>
[GenerateSerializer, Alias("LiveGrains.LiveStatsState")]
public sealed class LiveStatsState
{
    [Id(0)]
    public long ViewCount { get; set; }

    [Id(1)]
    public long LikeCount { get; set; }

    [Id(2)]
    public long ChatMessageCount { get; set; }

    [Id(3)]
    public long PeakViewerCount { get; set; }

    [Id(4)]
    public DateTimeOffset? PeakAt { get; set; }

    /// <summary>
    /// Set when the live ended: the counts below are final and the present set is dropped. The unique set stays, so
    /// that activity flushed after the end and a write of another activation (a duplicate during a directory handoff)
    /// still count each viewer exactly once.
    /// </summary>
    [Id(5)]
    public bool Frozen { get; set; }

    [Id(6)]
    public long ViewerCount { get; set; }

    [Id(7)]
    public long UniqueViewerCount { get; set; }

    /// <summary>Present viewers: (u64 hash, u32 last-seen unix second) pairs, little-endian.</summary>
    [Id(8)]
    public byte[] Present { get; set; } = [];

    /// <summary>Every viewer hash ever seen, u64 little-endian.</summary>
    [Id(9)]
    public byte[] Unique { get; set; } = [];

    /// <summary>
    /// The silos (their <see cref="ILiveActivityObserver"/> ids) that attached or flushed, so that an activation
    /// after a restart still closes every buffer that may hold accepted activity when the live ends.
    /// </summary>
    [Id(10)]
    public string[] Silos { get; set; } = [];

    /// <summary>The live's tenant, once known: an activation after a restart finds the live's room with it.</summary>
    [Id(11)]
    public string? Tenant { get; set; }
}

internal static class StatsErrors
{
    public static readonly DomainError Ended = new(DomainErrorCode.LiveEnded, "The live has ended: it takes no more activity and its statistics are frozen.");

    public static readonly DomainError Scheduled = new(DomainErrorCode.InvalidTransition, "The live is scheduled: activity is accepted once it is ready, live or paused.");
}

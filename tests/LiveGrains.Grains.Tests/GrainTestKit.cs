using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Tests;

/// <summary>Fresh keys and small helpers shared by the grain tests.</summary>
internal static class GrainTestKit
{
    public const string Acme = "acme";
    public const string Globex = "globex";

    /// <summary>The cluster client, set once by <see cref="ClusterFixture"/> (one cluster per test assembly run).</summary>
    public static IGrainFactory Grains { get; set; } = null!;

    /// <summary>A live's transition as the gateway performs it: routed by the live, decided by its room.</summary>
    public static Task<Result<LiveDto>> TransitionAsync(this ILiveGrain live, string tenant, LiveCommand command) =>
        Grains.TransitionLiveAsync(tenant, live.GetPrimaryKeyString(), command);

    public static string NewRoomId(string prefix = "room") => prefix + "-" + Guid.NewGuid().ToString("N")[..12];

    public static IRoomGrain Room(this IGrainFactory grains, string roomId, string tenant = Acme) =>
        grains.GetGrain<IRoomGrain>(TenantKey.Compose(tenant, roomId));

    public static ILiveGrain Live(this IGrainFactory grains, string liveId) => grains.GetGrain<ILiveGrain>(liveId);

    public static async Task<(string RoomId, IRoomGrain Room)> NewRoomAsync(
        this IGrainFactory grains, TakeoverPolicy policy = TakeoverPolicy.Takeover, string tenant = Acme)
    {
        var roomId = NewRoomId();
        var room = grains.Room(roomId, tenant);
        (await room.CreateAsync(new CreateRoomCommand("Room " + roomId, "host-1", policy, 60))).Value();
        return (roomId, room);
    }

    public static T Value<T>(this Result<T> result)
    {
        Assert.True(result.IsSuccess, $"Expected success but got {result.Error?.Code}: {result.Error?.Detail}");
        return result.Value!;
    }

    public static DomainError Failure<T>(this Result<T> result, DomainErrorCode code)
    {
        Assert.False(result.IsSuccess, $"Expected {code} but the call succeeded with {result.Value}");
        Assert.Equal(code, result.Error!.Code);
        return result.Error;
    }

    /// <summary>Every live of the room, newest first, by following next_cursor to the end.</summary>
    public static async Task<List<LiveDto>> AllLivesAsync(this IRoomGrain room, int pageSize = 100)
    {
        var all = new List<LiveDto>();
        string? cursor = null;
        do
        {
            var page = (await room.ListLivesAsync(pageSize, cursor)).Value();
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return all;
    }

    /// <summary>api.md's invariant: at most one live in live|paused, and it is the room's active live.</summary>
    public static void AssertOneActiveLive(RoomDto room, IReadOnlyCollection<LiveDto> lives)
    {
        var onAir = lives.Where(l => l.Status is LiveStatus.Live or LiveStatus.Paused).ToList();
        Assert.True(onAir.Count <= 1, $"{onAir.Count} lives on air: {string.Join(", ", onAir.Select(l => l.LiveId))}");
        Assert.Equal(onAir.SingleOrDefault()?.LiveId, room.ActiveLiveId);
    }
}

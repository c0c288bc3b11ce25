using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Apis;

public sealed record CreateRoomRequest(
    string? RoomId = null,
    string? Title = null,
    string? HostId = null,
    TakeoverPolicy? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null);

public sealed record UpdateRoomRequest(
    string? Title = null,
    string? HostId = null,
    TakeoverPolicy? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null);

public sealed record GoLiveRequest(string? Title = null, string? StartedBy = null);

public sealed record ScheduleLiveRequest(string? Title = null, DateTimeOffset? ScheduledStartTime = null);

public sealed record TransitionRequest(string? By = null);

public sealed record ListResponse<T>(IReadOnlyList<T> Items, string? NextCursor);

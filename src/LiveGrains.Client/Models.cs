using System.Text.Json;
using System.Text.Json.Serialization;

namespace LiveGrains.Client;

// The wire format of the API (snake_case through LiveGrainsClientJson). Status-like fields are strings, not enums,
// so a client built today keeps reading answers from a gateway that learned a new status tomorrow.

/// <summary>A page of a cursor-paged listing; pass <see cref="NextCursor"/> back to read the next one.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record Room(
    string RoomId,
    string? Title,
    string? HostId,
    string TakeoverPolicy,
    int ReconnectWindowSeconds,
    string? ActiveLiveId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null,
    string? PresetId = null,
    IReadOnlyList<string>? CoHostIds = null);

public sealed record CreateRoomRequest(
    string? RoomId = null,
    string? Title = null,
    string? HostId = null,
    string? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null,
    string? PresetId = null,
    IReadOnlyList<string>? CoHostIds = null);

public sealed record UpdateRoomRequest(
    string? Title = null,
    string? HostId = null,
    string? TakeoverPolicy = null,
    int? ReconnectWindowSeconds = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? PresetId = null,
    IReadOnlyList<string>? CoHostIds = null);

public sealed record Stats(
    long ViewerCount,
    long PeakViewerCount,
    DateTimeOffset? PeakAt,
    long UniqueViewerCount,
    long ViewCount,
    long LikeCount,
    long ChatMessageCount,
    long DurationSeconds);

public sealed record Live(
    string LiveId,
    string RoomId,
    string? Title,
    string Status,
    string? EndReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ScheduledStartTime,
    DateTimeOffset? ReadyAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? PausedAt,
    DateTimeOffset? EndedAt,
    long DurationSeconds,
    string? StartedBy,
    string? EndedBy,
    Stats Stats,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null,
    DateTimeOffset? UpdatedAt = null,
    string? ReadyBy = null,
    string? PausedBy = null,
    string? ResumedBy = null,
    string? PresetId = null,
    bool? ChatEnabledOverride = null,
    int? MaxJoinLimitOverride = null,
    bool? RecordingEnabled = null,
    bool EffectiveChatEnabled = true,
    int? EffectiveMaxJoinLimit = null,
    bool EffectiveRecordingEnabled = false,
    LiveHost? Host = null,
    string? Mode = null,
    string? WatchUrl = null,
    Playback? Playback = null,
    string? IngestUrl = null,
    IReadOnlyList<string>? StreamIds = null);

/// <summary>The host's presence (<c>state</c> is <c>entered</c>, <c>exited</c> or null before either).</summary>
public sealed record LiveHost(string? State, DateTimeOffset? EnteredAt, DateTimeOffset? ExitedAt, bool IsStreaming, string? By = null);

/// <summary>Where viewers play the live; null without ingest.</summary>
public sealed record Playback(string? HlsUrl);

public sealed record GoLiveRequest(
    string? Title = null,
    string? StartedBy = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null,
    bool? ChatEnabledOverride = null,
    int? MaxJoinLimitOverride = null,
    bool? RecordingEnabled = null,
    string? Mode = null);

public sealed record GoLiveResult(Live Live, Live? ClosedLive);

public sealed record ScheduleLiveRequest(
    string? Title = null,
    DateTimeOffset? ScheduledStartTime = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? CreatedBy = null,
    bool? ChatEnabledOverride = null,
    int? MaxJoinLimitOverride = null,
    bool? RecordingEnabled = null,
    string? Mode = null);

/// <summary>
/// The fields of <c>PATCH /v1/lives/{live_id}</c>; a field left null keeps its value. The overrides fall back to the
/// preset only when sent as an explicit JSON null: name them in <see cref="ClearFields"/> (<c>chat_enabled_override</c>,
/// <c>max_join_limit_override</c>, <c>recording_enabled</c>).
/// </summary>
public sealed record UpdateLiveRequest(
    string? Title = null,
    string? Description = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Visibility = null,
    string? Mode = null,
    bool? ChatEnabledOverride = null,
    int? MaxJoinLimitOverride = null,
    bool? RecordingEnabled = null,
    [property: JsonIgnore] IReadOnlyList<string>? ClearFields = null);

/// <summary>The body of a transition or of host enter/exit: who did it.</summary>
public sealed record TransitionRequest(string? By = null);

/// <summary>Filters of <c>GET /v1/lives</c>; <see cref="Order"/> is <c>created_at</c>, <c>started_at</c> or <c>viewer_count</c>.</summary>
public sealed record LiveQuery(
    IReadOnlyList<string>? Status = null,
    string? RoomId = null,
    string? Order = null,
    int? Limit = null,
    string? Cursor = null);

public sealed record LiveTransition(DateTimeOffset At, string? From, string To, string? By, string? Reason);

public sealed record ActivityBatch(
    IReadOnlyList<string>? Joins = null,
    IReadOnlyList<string>? Heartbeats = null,
    IReadOnlyList<string>? Leaves = null,
    long? Likes = null,
    long? ChatMessages = null);

/// <summary>How many items of an activity request were counted, and (batch form) how many joins the join limit refused.</summary>
public sealed record ActivityAccepted(int Accepted, int? Rejected = null);

/// <summary>The body of likes and chat-messages: how many (1 when left out).</summary>
public sealed record CountRequest(int? Count = null);

public sealed record RecordingSession(string RecordingId, DateTimeOffset StartedAt, DateTimeOffset? StoppedAt, string Trigger, string? LiveId);

/// <summary>An ingest stream; <see cref="StreamKey"/> is set only in the answers of create and rotate-key.</summary>
public sealed record LiveStream(
    string StreamId,
    string RoomId,
    bool Enabled,
    string Status,
    string? StreamKey,
    string RtmpUrl,
    string WhipUrl,
    string SrtUrl,
    string Recording,
    bool RecordingActive,
    DateTimeOffset? ConnectedAt,
    DateTimeOffset? DisconnectedAt,
    string? LiveId,
    int? ReconnectWindowSeconds,
    DateTimeOffset? ReconnectDeadline,
    int KeyVersion,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<RecordingSession> RecordingSessions,
    string? Name = null,
    string? Role = null,
    string? BoundLiveId = null);

/// <summary>
/// A new ingest stream of a room; <see cref="LiveId"/> binds it to a live, <see cref="Role"/> is <c>primary</c> or
/// <c>backup</c>, and <see cref="Enabled"/> false creates it inactive.
/// </summary>
public sealed record CreateStreamRequest(
    string RoomId,
    int? ReconnectWindowSeconds = null,
    string? Recording = null,
    string? LiveId = null,
    string? Name = null,
    string? Role = null,
    bool? Enabled = null);

/// <summary>The fields of <c>PATCH /v1/streams/{stream_id}</c>; a field left null keeps its value.</summary>
public sealed record UpdateStreamRequest(
    string? Name = null,
    int? ReconnectWindowSeconds = null,
    string? Recording = null,
    string? LiveId = null,
    bool? Enabled = null);

/// <summary>A finished recording; <see cref="Status"/> is <c>pending</c> until probed, then <c>ready</c> or <c>failed</c>.</summary>
public sealed record Video(
    string VideoId,
    string StreamId,
    string? LiveId,
    string RoomId,
    string Status,
    string File,
    double? DurationSeconds,
    long? SizeBytes,
    DateTimeOffset? RecordingStartedAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ReadyAt,
    string? Error = null);

/// <summary>Chat, join-limit and recording settings that rooms use by <c>preset_id</c> (else the tenant's default preset).</summary>
public sealed record Preset(
    string PresetId,
    string Name,
    bool ChatEnabled,
    int? MaxJoinLimit,
    bool RecordingEnabled,
    bool IsDefault,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record CreatePresetRequest(
    string Name,
    bool? ChatEnabled = null,
    int? MaxJoinLimit = null,
    bool? RecordingEnabled = null,
    bool? IsDefault = null);

/// <summary>The fields of <c>PATCH /v1/presets/{preset_id}</c>; a field left null keeps its value.</summary>
public sealed record UpdatePresetRequest(
    string? Name = null,
    bool? ChatEnabled = null,
    bool? RecordingEnabled = null,
    bool? IsDefault = null,
    int? MaxJoinLimit = null);

/// <summary>
/// One event of the tenant's event feed: the body a webhook endpoint receives (<c>type</c>, <c>timestamp</c>,
/// <c>data</c> with the resource and its <c>sequence</c>) and the event's <c>id</c> (a webhook's <c>webhook-id</c>).
/// <see cref="Data"/> stays JSON because its shape depends on <see cref="Type"/>.
/// </summary>
public sealed record FeedEvent(string Id, string Type, DateTimeOffset Timestamp, JsonElement Data);

public sealed record Webhook(
    string WebhookId,
    string Url,
    IReadOnlyList<string>? Events,
    bool Enabled,
    string? Secret,
    string? Description,
    DateTimeOffset CreatedAt,
    bool Failing,
    string Format = "standard");

/// <summary><see cref="Format"/>: <c>standard</c> (default) or <c>gcore</c> (Gcore's <c>{type, message}</c> bodies).</summary>
public sealed record CreateWebhookRequest(string Url, IReadOnlyList<string>? Events = null, string? Description = null, string? Format = null);

/// <summary>
/// A restream destination of a room (Fourthwall's services; restreaming). The stream key is write-only:
/// <see cref="HasStreamKey"/> says whether one is set. <see cref="Status"/>: <c>offline</c>, <c>online</c> or <c>error</c>.
/// </summary>
public sealed record Destination(
    string DestinationId,
    string RoomId,
    string Type,
    string? Url,
    bool HasStreamKey,
    string? BroadcasterId,
    string? BroadcasterLogin,
    string? ThumbnailUrl,
    bool Enabled,
    string Status,
    DateTimeOffset StatusAt,
    string? LastError,
    string? LiveId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary><see cref="Type"/>: <c>twitch</c>, <c>youtube</c> or <c>rtmp</c>; a destination without a url is status only.</summary>
public sealed record CreateDestinationRequest(
    string Type,
    string? Url = null,
    string? StreamKey = null,
    string? BroadcasterId = null,
    string? BroadcasterLogin = null,
    string? ThumbnailUrl = null,
    bool? Enabled = null);

/// <summary>Null keeps a field; an empty string clears it (<c>Url = ""</c> makes the destination status only).</summary>
public sealed record UpdateDestinationRequest(
    string? Url = null,
    string? StreamKey = null,
    string? BroadcasterId = null,
    string? BroadcasterLogin = null,
    string? ThumbnailUrl = null,
    bool? Enabled = null);

public sealed record WebhookDelivery(
    string EventId,
    string Type,
    string ResourceType,
    string ResourceId,
    long Sequence,
    string Status,
    int Attempts,
    int? LastStatusCode,
    string? LastError,
    string? LastResponseBody,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset UpdatedAt);

public sealed record ApiKey(string KeyId, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

/// <summary>The answer to creating a key: the only time its <see cref="Secret"/> is shown.</summary>
public sealed record CreatedApiKey(string KeyId, string Secret, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt);

public sealed record CreateApiKeyRequest(string Name, IReadOnlyList<string>? Scopes = null);

public sealed record TokenGrants(string? Room = null, string? Live = null, bool? Host = null, bool? Viewer = null);

public sealed record CreateTokenRequest(string Sub, TokenGrants Grants, int? TtlSeconds = null, string? KeyId = null);

public sealed record IssuedToken(string Token, string KeyId, string Sub, TokenGrants Grants, DateTimeOffset ExpiresAt);

public sealed record AuditActor(string Type, string Id);

public sealed record AuditEntry(string Id, DateTimeOffset At, AuditActor Actor, string Action, string? Resource, string? ResourceType, string Outcome, int Status);

public sealed record AuditQuery(string? Resource = null, string? Actor = null, string? After = null, int? Limit = null);

/// <summary>
/// One event of a live's event stream: <c>status</c> carries the <see cref="Live"/> after a transition, <c>stats</c>
/// its <see cref="Stats"/>. Other event names (added by a later gateway) arrive with neither set.
/// </summary>
public sealed record LiveEvent(string Event, Live? Live, Stats? Stats);

/// <summary>The answer of <c>GET /v1/lives/{live_id}/transitions</c>: the whole trail, no paging.</summary>
internal sealed record TransitionsResponse(IReadOnlyList<LiveTransition> Items);

using System.Text.Json;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Compat;

/// <summary>
/// LiveGrains events as Gcore Streaming's webhooks (seed 004): <c>{type: "stream"|"broadcast"|"video", message: {...}}</c>
/// with Gcore's integer ids, for endpoints registered with <c>format: "gcore"</c>. An event Gcore has no webhook for,
/// or of a resource that has no Gcore id (not created through the Gcore API), has no message: it is not sent to such
/// endpoints (docs/compat.md, "Gcore webhooks").
/// </summary>
public sealed class GcoreWebhookMessages(IGrainFactory grains, string tenant)
{
    private readonly GcoreIds _ids = new(grains, tenant);

    /// <summary>
    /// Whether the stream receives media after <paramref name="type"/>, for the <c>live</c> of the recording events that
    /// follow (their data is the recording, not the stream). Tracked from the stream's own events, in sequence order.
    /// </summary>
    public static bool? StreamLiveAfter(string type, bool? live) => type switch
    {
        EventTypes.StreamConnected => true,
        EventTypes.StreamDisconnected or EventTypes.StreamIdle => false,
        _ => live,
    };

    /// <summary>
    /// The Gcore bodies of <paramref name="event"/> in the order they are sent: none when Gcore has no such webhook, one
    /// for most events, and two for a video that became ready. Gcore sends <c>viewable</c> (tutorial step 17) once one
    /// quality of a recording is processed and <c>ready</c> (step 18) once all are; a LiveGrains video has one rendition,
    /// the recorded file, so its probe completes both and both go out, <c>viewable</c> first. <paramref name="streamLive"/>
    /// is <see cref="StreamLiveAfter"/> of the stream's events up to and including this one.
    /// </summary>
    public async Task<IReadOnlyList<string>> MessagesAsync(ResourceEvent @event, bool? streamLive)
    {
        if (await MessageAsync(@event, streamLive) is not { } message)
        {
            return [];
        }

        if (@event.Type != EventTypes.VideoReady)
        {
            return [message];
        }

        var viewable = JsonNode.Parse(message)!;
        viewable["message"]!["video"]!["status"] = "viewable";
        return [viewable.ToJsonString(), message];
    }

    /// <summary>The Gcore body of <paramref name="event"/> as its own state says, or null when Gcore has none.</summary>
    private async Task<string?> MessageAsync(ResourceEvent @event, bool? streamLive)
    {
        var message = @event.Type switch
        {
            EventTypes.StreamConnected or EventTypes.StreamDisconnected => await StreamAsync(@event, streamLive ?? false, RecordingActive(@event) && streamLive == true),
            EventTypes.RecordingStarted => await StreamAsync(@event, streamLive ?? true, streamLive ?? true),
            EventTypes.RecordingStopped => await StreamAsync(@event, streamLive ?? false, false),
            EventTypes.LiveStarted or EventTypes.LiveResumed => await BroadcastAsync(@event, "live"),
            EventTypes.LivePaused => await BroadcastAsync(@event, "paused"),
            EventTypes.LiveEnded => await BroadcastAsync(@event, "finished"),
            EventTypes.VideoCreated or EventTypes.VideoReady or EventTypes.VideoFailed => await VideoAsync(@event),
            _ => null,
        };
        return message?.ToJsonString();
    }

    /// <summary>A test ping in the endpoint's own shape (a <c>type</c> of LiveGrains' own: Gcore has no test event).</summary>
    public static string TestMessage(string webhookId) =>
        new JsonObject { ["type"] = "webhook.test", ["message"] = new JsonObject { ["webhook_id"] = webhookId } }.ToJsonString();

    private async Task<JsonObject?> StreamAsync(ResourceEvent @event, bool live, bool recording) =>
        await _ids.NumberOfAsync(GcoreIds.Stream, @event.ResourceId) is { } number
            ? Envelope("stream", new JsonObject { ["id"] = number, ["live"] = live, ["recording"] = recording })
            : null;

    private async Task<JsonObject?> BroadcastAsync(ResourceEvent @event, string status) =>
        await _ids.NumberOfAsync(GcoreIds.Broadcast, @event.ResourceId) is { } number
            ? Envelope("broadcast", new JsonObject { ["id"] = number, ["status"] = status })
            : null;

    private async Task<JsonObject?> VideoAsync(ResourceEvent @event)
    {
        var file = JsonSerializer.Deserialize<VideoDto>(@event.DataJson, LiveGrainsJson.Options);
        if (file?.RecordingStartedAt is not { } connectedAt || await _ids.NumberOfAsync(GcoreIds.Stream, file.StreamId) is not { } streamNumber)
        {
            return null;
        }

        var stream = await grains.Get<IStreamGrain>(file.StreamId).GetAsync(tenant);
        if (stream.Value is not { } s || GcoreVideos.Sessions(s, connectedAt, file.CreatedAt) is not { Count: > 0 } sessions)
        {
            return null; // nothing was recording during that publish: Gcore would have no video
        }

        var key = GcoreVideos.Key(file.StreamId, connectedAt);
        var number = await _ids.NumberOrNextAsync(GcoreIds.Video, key);
        await _ids.LinkFileAsync(key, file.VideoId);
        var name = (await grains.Get<IRoomGrain>(TenantKey.Compose(tenant, s.RoomId)).GetAsync()).Value?.Title;
        return Envelope("video", GcoreVideos.Build(number, streamNumber, name, connectedAt, sessions, file, file.CreatedAt));
    }

    private static bool RecordingActive(ResourceEvent @event)
    {
        using var data = JsonDocument.Parse(@event.DataJson);
        return data.RootElement.TryGetProperty("recording_active", out var active) && active.ValueKind == JsonValueKind.True;
    }

    private static JsonObject Envelope(string type, JsonObject resource) =>
        new() { ["type"] = type, ["message"] = new JsonObject { [type] = resource } };
}

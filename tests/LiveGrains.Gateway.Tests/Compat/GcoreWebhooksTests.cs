using System.Net;
using System.Text.Json;
using LiveGrains.Gateway.Tests.Webhooks;
using LiveGrains.Testing;
using LiveGrains.Webhooks.Testing;

namespace LiveGrains.Gateway.Tests.Compat;

/// <summary>
/// Webhook endpoints registered with <c>format: "gcore"</c>: the tutorial's webhooks (seed 004, steps 4-18) in Gcore's
/// <c>{type, message}</c> shape with the numbers the Gcore API answered, signed like every delivery. Media-server
/// callbacks play the encoder; the run with real nginx-rtmp and ffmpeg is GcoreTutorialEndToEndTests (integration).
/// </summary>
[Collection(CompatCollection.Name)]
public sealed class GcoreWebhooksTests(CompatGatewayFactory factory)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task AWebhookTakesAFormatThatIsValidatedAndShown()
    {
        var (key, _) = factory.NewShop();
        var client = factory.V1(key);

        var gcore = await (await client.PostJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook", format = "gcore" })).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("gcore", gcore.GetProperty("format").GetString());
        var read = await (await client.GetAsync($"/v1/webhooks/{gcore.GetProperty("webhook_id").GetString()}")).OkJsonAsync();
        Assert.Equal("gcore", read.GetProperty("format").GetString());

        var standard = await (await client.PostJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook" })).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("standard", standard.GetProperty("format").GetString());
        Assert.Equal("standard", (await (await client.PostJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook", format = "standard" }))
            .OkJsonAsync(HttpStatusCode.Created)).GetProperty("format").GetString());

        await (await client.PostJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook", format = "Gcore" })).ValidationProblemAsync("format");
        await (await client.PostJsonAsync("/v1/webhooks", new { url = "http://127.0.0.1:9/hook", format = "" })).ValidationProblemAsync("format");
        var numeric = await client.PostAsync("/v1/webhooks", """{"url": "http://127.0.0.1:9/hook", "format": 1}""");
        Assert.Equal(HttpStatusCode.BadRequest, numeric.StatusCode);

        var listed = (await (await client.GetAsync("/v1/webhooks")).OkJsonAsync()).GetProperty("items").EnumerateArray().Select(w => w.GetProperty("format").GetString());
        Assert.Equal(["gcore", "standard", "standard"], listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TheTutorialsWebhooksArriveInGcoresShapeWithItsIdsAndOnlyForGcoreResources()
    {
        var (key, _) = factory.NewShop();
        var v1 = factory.V1(key);
        var api = factory.Raw();
        await using var gcore = await WebhookTestApi.StartReceiverAsync();
        await using var standard = await WebhookTestApi.StartReceiverAsync();
        gcore.Secret = (await (await v1.PostJsonAsync("/v1/webhooks", new { url = gcore.Url, format = "gcore" })).OkJsonAsync(HttpStatusCode.Created))
            .GetProperty("secret").GetString();
        standard.Secret = (await (await v1.PostJsonAsync("/v1/webhooks", new { url = standard.Url })).OkJsonAsync(HttpStatusCode.Created))
            .GetProperty("secret").GetString();

        async Task<JsonElement> Call(HttpMethod method, string path, string? body = null, HttpStatusCode expected = HttpStatusCode.OK) =>
            await (await api.SendAsync(method, "/compat/gcore/streaming" + path, ("Authorization", "APIKey " + key), body)).JsonAsync(expected);

        // A /v1 live of a room the Gcore API never saw: no Gcore id, so nothing for the Gcore endpoint.
        var room = await v1.CreateRoomAsync();
        await v1.GoLiveAsync(room);

        var stream = await Call(HttpMethod.Post, "/streams", """{"stream": {"name": "test_stream", "active": false, "transcoding_region": "ix1"}}""", HttpStatusCode.Created);
        var streamId = stream.GetProperty("id").GetInt64();
        var push = stream.GetProperty("push_url").GetString()!;
        var streamKey = push[(push.LastIndexOf('/') + 1)..];
        var broadcastId = (await Call(HttpMethod.Post, "/broadcasts", $$$"""{"broadcast": {"name": "test_broadcast", "status": "pending", "stream_ids": [{{{streamId}}}]}}""", HttpStatusCode.Created))
            .GetProperty("id").GetInt64();
        await Call(HttpMethod.Patch, $"/streams/{streamId}", """{"stream": {"active": true}}""");

        // Step 4 (and 6: a publish puts the stream's pending broadcast on air).
        Assert.Equal(HttpStatusCode.OK, await HookAsync("publish", streamKey));
        await ExpectAsync(gcore, 1, $"stream:{streamId}", StreamMessage(streamId, live: true, recording: false));
        await ExpectAsync(gcore, 1, $"broadcast:{broadcastId}", BroadcastMessage(broadcastId, "live"));

        // Steps 7-8, 9-10.
        Assert.Equal(HttpStatusCode.NoContent, (await api.SendAsync(HttpMethod.Put, $"/compat/gcore/streaming/streams/{streamId}/start_recording", ("Authorization", "APIKey " + key))).StatusCode);
        await ExpectAsync(gcore, 2, $"stream:{streamId}", StreamMessage(streamId, live: true, recording: true));
        var video = await Call(HttpMethod.Put, $"/streams/{streamId}/stop_recording");
        var videoId = video.GetProperty("id").GetInt64();
        Assert.Equal("pending", video.GetProperty("status").GetString());
        await ExpectAsync(gcore, 3, $"stream:{streamId}", StreamMessage(streamId, live: true, recording: false));

        // Steps 12-13, and 15: finishing the broadcast ends the live, which takes its stream off the air.
        await Call(HttpMethod.Patch, $"/broadcasts/{broadcastId}", """{"broadcast": {"status": "finished"}}""");
        await ExpectAsync(gcore, 2, $"broadcast:{broadcastId}", BroadcastMessage(broadcastId, "finished"));
        await ExpectAsync(gcore, 4, $"stream:{streamId}", StreamMessage(streamId, live: false, recording: false));

        // Step 11 / 18: the media server reports the publish's file; this one is not media, so Gcore's status is error.
        var directory = TestDirectories.Create("gcore-videos");
        var path = Path.Combine(directory, streamKey + "-1.flv");
        await File.WriteAllTextAsync(path, "not a video");
        Assert.Equal(HttpStatusCode.OK, await HookAsync("record_done", streamKey, path));
        await Eventually.TrueAsync(() => standard.Acked.Any(r => r.Type == "video.created"), Timeout, "the standard endpoint got the file's video.created");
        var pending = await ExpectAsync(gcore, 1, $"video:{videoId}");
        var failed = await ExpectAsync(gcore, 2, $"video:{videoId}");
        Assert.Equal("pending", pending.GetProperty("message").GetProperty("video").GetProperty("status").GetString());
        var message = failed.GetProperty("message").GetProperty("video");
        Assert.Equal("error", message.GetProperty("status").GetString());
        Assert.Equal(video.GetProperty("name").GetString(), message.GetProperty("name").GetString());
        Assert.Equal(streamId, message.GetProperty("stream_id").GetInt64());
        Assert.Equal(JsonValueKind.Number, message.GetProperty("duration").ValueKind);
        Assert.StartsWith("vd_", message.GetProperty("slug").GetString(), StringComparison.Ordinal);

        // Step 19 sees the same video, now with its file's outcome.
        var info = await Call(HttpMethod.Get, $"/videos/{videoId}");
        Assert.Equal("error", info.GetProperty("status").GetString());
        Assert.Equal(message.GetProperty("slug").GetString(), info.GetProperty("slug").GetString());

        // The test ping speaks the endpoint's shape too.
        var hooks = (await (await v1.GetAsync("/v1/webhooks")).OkJsonAsync()).GetProperty("items").EnumerateArray()
            .First(w => w.GetProperty("format").GetString() == "gcore").GetProperty("webhook_id").GetString();
        await (await v1.PostAsync($"/v1/webhooks/{hooks}/test")).OkJsonAsync();
        Assert.Contains(gcore.Acked, r => r.Type == "webhook.test" && r.Data.GetProperty("message").GetProperty("webhook_id").GetString() == hooks);

        // Nothing but Gcore's shapes and Gcore's resources reached the Gcore endpoint, every body exactly {type, message};
        // the standard endpoint of the same tenant got LiveGrains' own events of the same flow, the /v1 live included.
        await Eventually.TrueAsync(() => standard.Acked.Any(r => r.Type == "video.failed"), Timeout, "the standard endpoint got the flow");
        Assert.Empty(gcore.Rejected);
        Assert.All(gcore.Acked, r => Assert.Equal(["type", "message"], r.Data.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(
            [$"broadcast:{broadcastId}", $"stream:{streamId}", $"video:{videoId}", "webhook.test"],
            gcore.Acked.Select(r => r.Resource).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(standard.Acked, r => r.Type == "live.started" && r.Data.GetProperty("room_id").GetString() == room);
        Assert.Contains(standard.Acked, r => r.Type == "stream.enabled");
        TestDirectories.TryDelete(directory);
    }

    private static string StreamMessage(long id, bool live, bool recording) =>
        "{\"type\":\"stream\",\"message\":{\"stream\":{\"id\":" + id + ",\"live\":" + (live ? "true" : "false") + ",\"recording\":" + (recording ? "true" : "false") + "}}}";

    private static string BroadcastMessage(long id, string status) =>
        "{\"type\":\"broadcast\",\"message\":{\"broadcast\":{\"id\":" + id + ",\"status\":\"" + status + "\"}}}";

    /// <summary>Waits for the <paramref name="nth"/> webhook of <paramref name="resource"/>; checks its body exactly when given.</summary>
    private static async Task<JsonElement> ExpectAsync(WebhookReceiver receiver, int nth, string resource, string? body = null)
    {
        var received = await Eventually.ValueAsync(
            () => Task.FromResult(receiver.Acked.Where(r => r.Resource == resource).ToList()),
            list => list.Count >= nth,
            Timeout,
            $"webhook #{nth} of {resource}; got {string.Join(" | ", receiver.Acked.Select(r => r.Data.ToString()))}");
        var data = received[nth - 1].Data;
        if (body is not null)
        {
            Assert.Equal(body, data.GetRawText());
        }

        return data;
    }

    private async Task<HttpStatusCode> HookAsync(string call, string key, string? path = null)
    {
        var form = new Dictionary<string, string>
        {
            ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = "9",
        };
        if (path is not null)
        {
            form["path"] = path;
        }

        using var response = await factory.Raw().PostAsync("/v1/ingest-hooks/nginx-rtmp?secret=test-hook-secret", new FormUrlEncodedContent(form));
        return response.StatusCode;
    }
}

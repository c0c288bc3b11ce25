using System.Net;
using LiveGrains.Testing;

namespace LiveGrains.Gateway.Tests.Ingest;

/// <summary>GET/DELETE /v1/videos over HTTP, fed by the nginx-rtmp record_done callback; real ffprobe on real files.</summary>
[Collection(GatewayCollection.Name)]
public sealed class VideosHttpTests(GatewayFactory factory)
{
    private const string Secret = "test-hook-secret";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly HttpClient _api = factory.CreateClient(GatewayFactory.AcmeKey);
    private readonly HttpClient _hooks = factory.CreateClient();

    [Fact]
    public async Task ARecordingThatIsNotMediaBecomesAFailedVideoVisibleOnlyToItsTenant()
    {
        var roomId = await _api.CreateRoomAsync();
        var stream = await (await _api.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created);
        var key = stream.GetProperty("stream_key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await HookAsync("publish", key, null));
        var liveId = (await (await _api.GetAsync($"/v1/streams/{stream.GetProperty("stream_id").GetString()}")).OkJsonAsync()).GetProperty("live_id").GetString()!;
        var directory = TestDirectories.Create("videos");
        var path = Path.Combine(directory, key + "-1.flv");
        await File.WriteAllTextAsync(path, "not a video");

        Assert.Equal(HttpStatusCode.OK, await HookAsync("record_done", key, path));

        var page = await Eventually.ValueAsync(
            async () => await (await _api.GetAsync($"/v1/videos?live_id={liveId}")).OkJsonAsync(),
            p => p.GetProperty("items").GetArrayLength() == 1 && p.GetProperty("items")[0].GetProperty("status").GetString() != "pending",
            Timeout,
            "the video is listed and probed");
        var video = page.GetProperty("items")[0];
        Assert.Equal("failed", video.GetProperty("status").GetString());
        Assert.DoesNotContain(key, video.ToString(), StringComparison.Ordinal);
        var videoId = video.GetProperty("video_id").GetString()!;

        var globex = factory.CreateClient(GatewayFactory.GlobexKey);
        await (await globex.GetAsync($"/v1/videos/{videoId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await (await globex.GetAsync($"/v1/videos?live_id={liveId}")).OkJsonAsync()).GetProperty("items").EnumerateArray());
        await (await _api.GetAsync("/v1/videos/nope")).ValidationProblemAsync("video_id");
        await (await _api.GetAsync("/v1/videos?live_id=nope")).ValidationProblemAsync("live_id");

        using var deleted = await _api.SendAsync(HttpMethod.Delete, $"/v1/videos/{videoId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await _api.GetAsync($"/v1/videos/{videoId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        TestDirectories.TryDelete(directory);
    }

    private async Task<HttpStatusCode> HookAsync(string call, string key, string? path)
    {
        var fields = new Dictionary<string, string> { ["call"] = call, ["name"] = key, ["app"] = "live", ["addr"] = "127.0.0.1", ["clientid"] = "9" };
        if (path is not null)
        {
            fields["path"] = path;
        }

        using var content = new FormUrlEncodedContent(fields);
        using var response = await _hooks.PostAsync($"/v1/ingest-hooks/nginx-rtmp?secret={Secret}", content);
        return response.StatusCode;
    }
}

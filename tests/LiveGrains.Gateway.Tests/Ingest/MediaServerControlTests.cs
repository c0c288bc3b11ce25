using System.Collections.Concurrent;
using System.Globalization;
using LiveGrains.Abstractions;
using LiveGrains.Grains.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.Tests.Ingest;

/// <summary>
/// The drop calls against real HTTP servers on loopback that answer as SRS's HTTP API (v1 clients), MediaMTX's control
/// API (v3 kick) and nginx-rtmp's control module do (their documented routes and answers). SRS and MediaMTX cannot be
/// installed on the test machines; nginx-rtmp's real control module is exercised by the integration tests.
/// </summary>
public sealed class MediaServerControlTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _requests = new();
    private WebApplication _server = null!;
    private string _url = null!;

    /// <summary>The status and body the fake answers next, by path prefix.</summary>
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _answers = new();

    public async Task InitializeAsync()
    {
        _url = $"http://127.0.0.1:{Testing.FreePort.Next().ToString(CultureInfo.InvariantCulture)}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(_url);
        builder.Logging.ClearProviders();
        _server = builder.Build();
        _server.Run(async context =>
        {
            var path = context.Request.Path + context.Request.QueryString;
            _requests.Enqueue($"{context.Request.Method} {path}");
            var answer = _answers.Where(a => path.StartsWith(a.Key, StringComparison.Ordinal)).OrderByDescending(a => a.Key.Length).FirstOrDefault().Value;
            context.Response.StatusCode = answer.Status == 0 ? 200 : answer.Status;
            await context.Response.WriteAsync(answer.Body ?? string.Empty);
        });
        await _server.StartAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SrsKicksTheClientThroughItsHttpApiAndTakesNoSuchClientAsDone()
    {
        var control = Control(new MediaServerControlOptions { SrsApiUrl = _url + "/" });
        _answers["/api/v1/clients/gone"] = (200, """{"code":2049}""");
        _answers["/api/v1/clients/stuck"] = (200, """{"code":1000}""");
        _answers["/api/v1/clients/"] = (200, """{"code":0}""");

        await control.DropAsync(new PublisherRef(MediaServerKind.Srs, "341w361a", "live", null), default);
        await control.DropAsync(new PublisherRef(MediaServerKind.Srs, "gone", "live", null), default);
        await Assert.ThrowsAsync<HttpRequestException>(() => control.DropAsync(new PublisherRef(MediaServerKind.Srs, "stuck", "live", null), default));

        Assert.Equal(["DELETE /api/v1/clients/341w361a", "DELETE /api/v1/clients/gone", "DELETE /api/v1/clients/stuck"], _requests);
    }

    [Fact]
    public async Task MediaMtxKicksTheConnectionOfItsProtocolAndTakesNotFoundAsDone()
    {
        var control = Control(new MediaServerControlOptions { MediaMtxApiUrl = _url });
        _answers["/v3/rtmpconns/kick/missing"] = (404, """{"error":"connection not found"}""");
        _answers["/v3/webrtcsessions/kick/broken"] = (500, """{"error":"boom"}""");

        await control.DropAsync(new PublisherRef(MediaServerKind.MediaMtx, "0f1e2d3c", null, "rtmp"), default);
        await control.DropAsync(new PublisherRef(MediaServerKind.MediaMtx, "5a6b", null, "srt"), default);
        await control.DropAsync(new PublisherRef(MediaServerKind.MediaMtx, "missing", null, "rtmp"), default);
        await Assert.ThrowsAsync<HttpRequestException>(() => control.DropAsync(new PublisherRef(MediaServerKind.MediaMtx, "broken", null, "webrtc"), default));

        Assert.Equal(
            ["POST /v3/rtmpconns/kick/0f1e2d3c", "POST /v3/srtconns/kick/5a6b", "POST /v3/rtmpconns/kick/missing", "POST /v3/webrtcsessions/kick/broken"],
            _requests);
    }

    [Fact]
    public async Task NginxRtmpDropsThePublisherByApplicationAndClientIdNeverByKey()
    {
        var control = Control(new MediaServerControlOptions { NginxRtmpControlUrl = _url + "/control" });
        _answers["/control/drop/publisher"] = (200, "1");

        await control.DropAsync(new PublisherRef(MediaServerKind.NginxRtmp, "17", "live", null), default);

        Assert.Equal(["GET /control/drop/publisher?app=live&clientid=17"], _requests);
    }

    [Fact]
    public async Task AServerWithoutAConfiguredControlApiIsNotCalled()
    {
        var control = Control(new MediaServerControlOptions { SrsApiUrl = _url });

        await control.DropAsync(new PublisherRef(MediaServerKind.NginxRtmp, "17", "live", null), default);
        await control.DropAsync(new PublisherRef(MediaServerKind.MediaMtx, "ab", null, "rtmp"), default);

        Assert.Empty(_requests);
    }

    private static HttpMediaServerControl Control(MediaServerControlOptions options)
    {
        var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        return new HttpMediaServerControl(
            services.GetRequiredService<IHttpClientFactory>(), Options.Create(options), NullLogger<HttpMediaServerControl>.Instance);
    }
}

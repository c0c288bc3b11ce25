using System.Text.Json;
using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Apis;

/// <summary>
/// The media servers' callbacks (docs/ingest.md). Anonymous to the API-key scheme, authenticated by the shared
/// <c>Ingest:CallbackSecret</c>; each route translates its server's dialect into one <see cref="IStreamGrain"/>
/// call and the grain's decision back into that server's allow/refuse answer. Keys are never logged: only the
/// stream id, which is the public half of a key.
/// </summary>
public static class IngestHooksApi
{
    private const int MaxJsonBytes = 16 * 1024;

    public static RouteGroupBuilder MapIngestHooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/ingest-hooks").WithTags("Ingest hooks").AllowAnonymous();
        api.MapPost("/nginx-rtmp", NginxRtmpAsync).WithName("NginxRtmpHook")
            .WithSummary("nginx-rtmp on_publish / on_publish_done / on_update (form field 'call'): 2xx allows, 403 refuses.")
            .DisableAntiforgery();
        api.MapPost("/srs", SrsAsync).WithName("SrsHook")
            .WithSummary("SRS HTTP callbacks on_publish / on_unpublish / on_dvr (JSON): HTTP 200 with body 0 allows; "
                + "forward backend on_forward: answers the urls to forward to.");
        api.MapPost("/mediamtx", MediaMtxAsync).WithName("MediaMtxHook")
            .WithSummary("MediaMTX authHTTPAddress (JSON): 2xx allows a publish, 403 refuses.");
        api.MapPost("/mediamtx-recording", MediaMtxRecordingAsync).WithName("MediaMtxRecordingHook")
            .WithSummary("MediaMTX runOnRecordSegmentComplete (form: path, segment_path): the finished segment becomes a video.")
            .DisableAntiforgery();
        return api;
    }

    /// <summary>Form fields: call=publish|publish_done|update_publish|play|..., name=&lt;stream key&gt;, clientid, addr, app, tcurl.</summary>
    public static async Task<IResult> NginxRtmpAsync(HttpRequest request, IGrainFactory grains, IngestHookSecret secret, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(IngestHooksApi));
        if (!Authorized(request, secret, logger, "nginx-rtmp"))
        {
            return Forbidden();
        }

        if (!request.HasFormContentType)
        {
            return Problems.Validation("call", "nginx-rtmp callbacks are form-encoded (notify_method post).");
        }

        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        var call = form["call"].ToString();
        var callback = new IngestCallback(form["name"].ToString(), MediaServerKind.NginxRtmp, form["clientid"].ToString(), form["addr"].ToString(), form["app"].ToString());
        var decision = call switch
        {
            "publish" => await DecideAsync(grains, callback, static (g, c) => g.PublishAsync(c), logger),
            "update_publish" or "update" => await DecideAsync(grains, callback, static (g, c) => g.UpdateAsync(c), logger),
            "publish_done" => await DecideAsync(grains, callback, static (g, c) => g.UnpublishAsync(c), logger),

            // record all + on_record_done: the finished file becomes a video (docs/ingest.md, "Recordings as videos").
            "record_done" => await RecordDoneAsync(grains, StreamKeys.StreamIdOf(callback.StreamKey), callback, form["path"].ToString(), logger),

            // Playback is open, like `allow play all` in infra/media/nginx-rtmp.conf.
            "play" or "play_done" or "update_play" or "done" or "connect" or "disconnect" => new IngestDecision(IngestOutcome.Ignored),
            _ => null,
        };
        return decision switch
        {
            null => Problems.Validation("call", "Unknown nginx-rtmp call."),
            { Allowed: true } => TypedResults.Ok(),
            _ => Forbidden(),
        };
    }

    /// <summary>
    /// SRS 5 http_hooks: {"action":"on_publish","client_id":"...","ip":"...","app":"live","stream":"&lt;stream key&gt;",...};
    /// on_dvr adds "cwd" and "file"; the forward backend sends "action":"on_forward" to the same route.
    /// </summary>
    public static async Task<IResult> SrsAsync(HttpRequest request, IGrainFactory grains, IngestHookSecret secret, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(IngestHooksApi));
        if (!Authorized(request, secret, logger, "srs"))
        {
            return SrsAnswer(false);
        }

        if (await ReadJsonAsync(request) is not { } json)
        {
            return SrsAnswer(false);
        }

        var callback = new IngestCallback(Field(json, "stream"), MediaServerKind.Srs, Field(json, "client_id"), Field(json, "ip"), Field(json, "app"));
        if (Field(json, "action") == "on_forward")
        {
            return await SrsForwardAsync(grains, callback.StreamKey);
        }

        var decision = Field(json, "action") switch
        {
            "on_publish" => await DecideAsync(grains, callback, static (g, c) => g.PublishAsync(c), logger),
            "on_unpublish" => await DecideAsync(grains, callback, static (g, c) => g.UnpublishAsync(c), logger),

            // dvr_plan session: one file per publish, reported when it is closed; `file` is relative to SRS's `cwd`
            // unless dvr_path is absolute (infra/media/srs.conf). It becomes a video as nginx-rtmp's record_done does.
            "on_dvr" => await RecordDoneAsync(
                grains, StreamKeys.StreamIdOf(callback.StreamKey), callback, SrsDvrFile(Field(json, "cwd"), Field(json, "file")), logger),

            // on_play, on_stop, on_hls...: nothing LiveGrains gates.
            _ => new IngestDecision(IngestOutcome.Ignored),
        };
        return SrsAnswer(decision.Allowed);
    }

    /// <summary>
    /// MediaMTX authHTTPAddress: {"user","password","token","ip","action","path","protocol","id","query"}. The key is
    /// the first of password, token (WHIP bearer), query <c>key=</c> and the last path segment that is shaped like one.
    /// </summary>
    public static async Task<IResult> MediaMtxAsync(HttpRequest request, IGrainFactory grains, IngestHookSecret secret, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(IngestHooksApi));
        if (!Authorized(request, secret, logger, "mediamtx"))
        {
            return Forbidden();
        }

        if (await ReadJsonAsync(request) is not { } json)
        {
            return Forbidden();
        }

        switch (Field(json, "action"))
        {
            case "publish":
                var key = MediaMtxKey(json);
                var callback = new IngestCallback(key, MediaServerKind.MediaMtx, Field(json, "id"), Field(json, "ip"), null, Field(json, "protocol"));
                var decision = await DecideAsync(grains, callback, static (g, c) => g.PublishAsync(c), logger);
                return decision.Allowed ? TypedResults.NoContent() : Forbidden();

            // Playback is public; MediaMTX's own API, metrics and pprof are not opened through this hook.
            case "read" or "playback":
                return TypedResults.NoContent();
            default:
                return Forbidden();
        }
    }

    /// <summary>
    /// MediaMTX runOnRecordSegmentComplete, as infra/media/mediamtx.yml runs it: <c>curl --data-urlencode path=$MTX_PATH
    /// --data-urlencode segment_path=$MTX_SEGMENT_PATH</c>. The path's last segment names the stream: the key (RTMP, SRT)
    /// or, for WHIP, the stream id (the key travelled as the bearer token). Routed by the stream id with no key check, as
    /// nginx-rtmp's record_done: the hook secret authenticates the media server, and the key may have been rotated since.
    /// </summary>
    public static async Task<IResult> MediaMtxRecordingAsync(HttpRequest request, IGrainFactory grains, IngestHookSecret secret, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(IngestHooksApi));
        if (!Authorized(request, secret, logger, "mediamtx"))
        {
            return Forbidden();
        }

        if (!request.HasFormContentType)
        {
            return Problems.Validation("segment_path", "The MediaMTX recording hook is form-encoded (curl --data-urlencode).");
        }

        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        var path = form["path"].ToString().TrimEnd('/');
        var name = path[(path.LastIndexOf('/') + 1)..];
        var streamId = StreamKeys.StreamIdOf(name) ?? (Ids.IsValidServerId(name, "st_") ? name : null);
        var callback = new IngestCallback(name, MediaServerKind.MediaMtx, string.Empty, string.Empty, null);
        var decision = await RecordDoneAsync(grains, streamId, callback, form["segment_path"].ToString(), logger);
        return decision.Allowed ? TypedResults.NoContent() : TypedResults.Text("unknown stream", "text/plain", statusCode: StatusCodes.Status404NotFound);
    }

    /// <summary>SRS reports <c>file</c> as dvr_path made it, relative to the server's working directory <c>cwd</c> unless absolute.</summary>
    internal static string SrsDvrFile(string cwd, string file)
    {
        if (file.Length == 0 || Path.IsPathFullyQualified(file))
        {
            return file;
        }

        return Path.IsPathFullyQualified(cwd) ? Path.GetFullPath(Path.Combine(cwd, file)) : string.Empty;
    }

    internal static string MediaMtxKey(JsonElement json)
    {
        var query = Field(json, "query");
        string? fromQuery = null;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.StartsWith("key=", StringComparison.Ordinal))
            {
                fromQuery = Uri.UnescapeDataString(pair[4..]);
            }
        }

        var path = Field(json, "path").TrimEnd('/');
        var lastSegment = path[(path.LastIndexOf('/') + 1)..];
        foreach (var candidate in new[] { Field(json, "password"), Field(json, "token"), fromQuery, lastSegment })
        {
            if (StreamKeys.StreamIdOf(candidate) is not null)
            {
                return candidate!;
            }
        }

        return lastSegment;
    }

    /// <summary>A media server finished a recording file (nginx-rtmp record_done, SRS on_dvr, MediaMTX segment complete).</summary>
    private static async Task<IngestDecision> RecordDoneAsync(IGrainFactory grains, string? streamId, IngestCallback callback, string path, ILogger logger)
    {
        if (streamId is null || path.Length == 0 || !Path.IsPathFullyQualified(path))
        {
            logger.LogWarning("{Server} recording ignored: no stream key or no absolute path (client {ClientId})", callback.Server, callback.ClientId);
            return new IngestDecision(IngestOutcome.UnknownStream);
        }

        var video = await grains.Get<IStreamGrain>(streamId).RecordDoneAsync(callback, path);
        return new IngestDecision(video.IsSuccess ? IngestOutcome.Allowed : IngestOutcome.UnknownStream, video.Value?.LiveId);
    }

    private static async Task<IngestDecision> DecideAsync(
        IGrainFactory grains, IngestCallback callback, Func<IStreamGrain, IngestCallback, Task<IngestDecision>> call, ILogger logger)
    {
        if (StreamKeys.StreamIdOf(callback.StreamKey) is not { } streamId)
        {
            logger.LogWarning("{Server} callback refused: the stream name is not a LiveGrains stream key (client {ClientId} from {Address})",
                callback.Server, callback.ClientId, callback.RemoteAddress);
            return new IngestDecision(IngestOutcome.UnknownStream);
        }

        return await call(grains.Get<IStreamGrain>(streamId), callback);
    }

    private static bool Authorized(HttpRequest request, IngestHookSecret secret, ILogger logger, string server)
    {
        if (secret.Verify(request))
        {
            return true;
        }

        logger.LogWarning("{Server} callback from {Address} refused: {Why}",
            server, request.HttpContext.Connection.RemoteIpAddress, secret.IsConfigured ? "wrong or missing callback secret" : "Ingest:CallbackSecret is not configured");
        return false;
    }

    private static async Task<JsonElement?> ReadJsonAsync(HttpRequest request)
    {
        try
        {
            // Media servers add fields between versions: read leniently, not with the API's strict options.
            using var document = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Field(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;

    /// <summary>
    /// SRS <c>forward { backend ...; }</c>: asked once when a publish starts, it answers the urls SRS forwards the stream to
    /// (<c>{"code":0,"data":{"urls":[...]}}</c>), the room's restream plan for this stream's publish (the key checked as for
    /// the restream script). No urls rather than an error when there is no plan (not stored yet, a backup's publish, a
    /// wrong key): SRS treats a failing backend as a failing publish, and restreaming must never cost the broadcast.
    /// </summary>
    private static async Task<IResult> SrsForwardAsync(IGrainFactory grains, string streamKey)
    {
        string[] urls = [];
        if (StreamKeys.StreamIdOf(streamKey) is { } streamId
            && await grains.Get<IStreamGrain>(streamId).RestreamPlanAsync(streamKey) is { IsSuccess: true, Value: { } plan })
        {
            urls = [.. plan.Targets.Select(t => t.PushUrl)];
        }

        return TypedResults.Json(new SrsForwardAnswer(0, new SrsForwardUrls(urls)));
    }

    /// <summary>SRS checks for HTTP 200 and a body of <c>0</c> (or {"code":0}); anything else refuses.</summary>
    private static IResult SrsAnswer(bool allowed) =>
        allowed ? TypedResults.Text("0", "text/plain") : TypedResults.Text("1", "text/plain", statusCode: StatusCodes.Status403Forbidden);

    private static IResult Forbidden() => TypedResults.Text("refused", "text/plain", statusCode: StatusCodes.Status403Forbidden);

    internal sealed record SrsForwardAnswer(int Code, SrsForwardUrls Data);

    internal sealed record SrsForwardUrls(string[] Urls);
}

using System.Globalization;
using System.Text;
using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Apis;

/// <summary>
/// The media server's restream script (infra/media/livegrains-restream.sh, run by nginx-rtmp's <c>exec_push</c> for each
/// publish; docs/ingest.md "Destinations"). Authenticated like the other media callbacks by <c>Ingest:CallbackSecret</c>,
/// and by the stream key the script was started for. Plain text answers, so a POSIX shell reads them without a JSON tool.
/// Neither the stream key nor a destination's key is ever logged.
/// </summary>
public static class RestreamHooksApi
{
    public static RouteGroupBuilder MapRestreamHooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/ingest-hooks").WithTags("Ingest hooks").AllowAnonymous();
        api.MapPost("/restream", RestreamAsync).WithName("RestreamHook")
            .WithSummary("Restream script: call=plan lists the pushes of a publish (one 'id<TAB>revision<TAB>live_id<TAB>url' a line); "
                + "call=status reports a push's status and answers 'push' or 'stop'.")
            .DisableAntiforgery();
        return api;
    }

    /// <summary>
    /// Form fields: <c>call</c> = <c>plan</c> | <c>status</c>, <c>name</c> = the stream key; for status also
    /// <c>destination_id</c>, <c>revision</c>, <c>live_id</c>, <c>status</c> (online | offline | error), <c>error</c>.
    /// </summary>
    public static async Task<IResult> RestreamAsync(HttpRequest request, IGrainFactory grains, IngestHookSecret secret, ILoggerFactory loggers)
    {
        if (!secret.Verify(request))
        {
            loggers.CreateLogger(typeof(RestreamHooksApi)).LogWarning(
                "restream callback from {Address} refused: {Why}", request.HttpContext.Connection.RemoteIpAddress,
                secret.IsConfigured ? "wrong or missing callback secret" : "Ingest:CallbackSecret is not configured");
            return Text("refused", StatusCodes.Status403Forbidden);
        }

        if (!request.HasFormContentType)
        {
            return Problems.Validation("call", "Restream callbacks are form-encoded.");
        }

        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        var key = form["name"].ToString();
        if (StreamKeys.StreamIdOf(key) is not { } streamId)
        {
            return Text("unknown stream", StatusCodes.Status404NotFound);
        }

        var stream = grains.Get<IStreamGrain>(streamId);
        switch (form["call"].ToString())
        {
            case "plan":
                var plan = await stream.RestreamPlanAsync(key);
                return plan.IsSuccess ? Text(Lines(plan.Value!), StatusCodes.Status200OK) : Refused(plan.Error!);

            case "status":
                if (Report(form) is not { } report)
                {
                    return Problems.Validation("status", "destination_id, revision, live_id and status (online, offline or error) are required.");
                }

                var answer = await stream.ReportRestreamAsync(key, report);
                return answer.IsSuccess ? Text(answer.Value ? "push" : "stop", StatusCodes.Status200OK) : Refused(answer.Error!);

            default:
                return Problems.Validation("call", "Unknown restream call (plan or status).");
        }
    }

    private static DestinationReport? Report(IFormCollection form)
    {
        var destinationId = form["destination_id"].ToString();
        var liveId = form["live_id"].ToString();
        DestinationStatus? status = form["status"].ToString() switch
        {
            "online" => DestinationStatus.Online,
            "offline" => DestinationStatus.Offline,
            "error" => DestinationStatus.Error,
            _ => null,
        };
        if (!DestinationIds.TryGetRoom(destinationId, out _) || !Ids.IsValidLiveId(liveId) || status is null
            || !int.TryParse(form["revision"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var revision))
        {
            return null;
        }

        var error = form["error"].ToString();
        return new DestinationReport(destinationId, revision, liveId, status.Value, error.Length == 0 ? null : error[..Math.Min(error.Length, 2_000)]);
    }

    private static string Lines(RestreamPlan plan)
    {
        var text = new StringBuilder();
        foreach (var target in plan.Targets)
        {
            text.Append(target.DestinationId).Append('\t').Append(target.Revision.ToString(CultureInfo.InvariantCulture)).Append('\t')
                .Append(plan.LiveId).Append('\t').Append(target.PushUrl).Append('\n');
        }

        return text.ToString();
    }

    private static IResult Refused(DomainError error) =>
        error.Code == DomainErrorCode.Unavailable
            ? Text("not connected yet", StatusCodes.Status503ServiceUnavailable)
            : Text("unknown stream", StatusCodes.Status404NotFound);

    private static IResult Text(string body, int status) => TypedResults.Text(body, "text/plain", Encoding.UTF8, status);
}

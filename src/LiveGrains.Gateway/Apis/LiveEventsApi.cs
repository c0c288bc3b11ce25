using System.Security.Claims;
using System.Text;
using System.Text.Json;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.Grains;
using Microsoft.AspNetCore.Http.Features;

namespace LiveGrains.Gateway.Apis;

/// <summary>
/// <c>GET /v1/lives/{live_id}/events</c>: a server-sent event stream of the live's transitions (<c>status</c>,
/// a Live) and its statistics (<c>stats</c>, at most once a second while they change). The current state comes
/// first, so a late client needs nothing else. The stream long-polls the stats grain; nothing is pushed to a
/// gateway that is not listening. The once-a-second pace is on <see cref="LiveGrainsClock"/>; the long poll's wait
/// bounds a grain call and stays on real time.
/// </summary>
public static class LiveEventsApi
{
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StatsInterval = TimeSpan.FromSeconds(1);

    public static RouteGroupBuilder MapLiveEventsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/{liveId}/events", StreamEventsAsync)
            .WithName("LiveEvents").WithSummary("Server-sent events: 'status' on every transition, 'stats' at most once a second.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return api;
    }

    public static async Task<IResult> StreamEventsAsync(
        string liveId, ClaimsPrincipal user, IGrainFactory grains, LiveGrainsClock clock, HttpContext http, CancellationToken cancellationToken)
    {
        var check = new RequestValidator().LiveId("live_id", liveId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var tenant = user.Tenant();
        var live = await grains.Get<ILiveGrain>(liveId).GetAsync(tenant);
        if (!live.IsSuccess)
        {
            return Problems.From(live.Error!);
        }

        var stats = grains.Get<ILiveStatsGrain>(liveId);
        var first = await stats.PollEventsAsync(tenant, -1, -1, TimeSpan.Zero);
        if (!first.IsSuccess)
        {
            return Problems.From(first.Error!);
        }

        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var sequence = first.Value!.StatusSequence;
        var version = first.Value.StatsVersion;
        await WriteAsync(response, "status", live.Value!, cancellationToken);
        await WriteAsync(response, "stats", first.Value.Stats ?? live.Value!.Stats, cancellationToken);
        var lastStats = clock.Provider.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var poll = await stats.PollEventsAsync(tenant, sequence, version, PollWait);
                if (!poll.IsSuccess)
                {
                    break;
                }

                foreach (var status in poll.Value!.StatusEvents)
                {
                    await WriteAsync(response, "status", status, cancellationToken);
                }

                sequence = Math.Max(sequence, poll.Value.StatusSequence);
                if (poll.Value.StatsVersion != version && poll.Value.Stats is { } current)
                {
                    var wait = StatsInterval - clock.Provider.GetElapsedTime(lastStats);
                    if (wait > TimeSpan.Zero)
                    {
                        // The next poll answers at once with the stats as they are then.
                        await Task.Delay(wait, clock.Provider, cancellationToken);
                        continue;
                    }

                    await WriteAsync(response, "stats", current, cancellationToken);
                    version = poll.Value.StatsVersion;
                    lastStats = clock.Provider.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return Results.Empty;
    }

    private static async Task WriteAsync<T>(HttpResponse response, string eventName, T data, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(data, LiveGrainsJson.Options);
        await response.WriteAsync($"event: {eventName}\ndata: {json}\n\n", Encoding.UTF8, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}

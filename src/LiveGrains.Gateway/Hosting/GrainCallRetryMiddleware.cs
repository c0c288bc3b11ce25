using LiveGrains.Abstractions;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace LiveGrains.Gateway.Hosting;

/// <summary>
/// Retries a request inside the gateway when the cluster could not take it right now, so a silo that restarts or
/// dies costs the client some latency instead of a 503 (docs/scale-out.md):
/// <list type="bullet">
/// <item>GET (reads change nothing): on any transient cluster error, a client timeout included.</item>
/// <item>POST with an Idempotency-Key: only when the call certainly did not run, i.e. the silo rejected the
/// message or the connection could not be made. A timeout or a silo lost mid-call leaves the outcome unknown, and the
/// grain calls behind a POST are not idempotent themselves, so those become a 503 that the client retries with the
/// same key. An ETag conflict (<see cref="InconsistentStateException"/>) also means nothing was stored.</item>
/// </list>
/// <item>POST with an Idempotency-Key to an endpoint marked <see cref="DeduplicatedByRequestId"/> (create room,
/// go-live, schedule, ready/start/pause/resume/end): like a read, since the room answers a repeated request id with its first decision.</item>
/// Runs outside the idempotency middleware, so a retry re-runs the keyed request from the start (the first attempt's
/// 5xx was not stored there); the body is buffered once and each attempt reads a fresh copy, and the response (status,
/// headers) is reset to what it was before the first attempt.
/// </summary>
public sealed class GrainCallRetryMiddleware(RequestDelegate next, TimeProvider time, ILogger<GrainCallRetryMiddleware> logger)
{
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    public async Task InvokeAsync(HttpContext context)
    {
        var isRead = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        var isKeyedPost = HttpMethods.IsPost(context.Request.Method) && context.Request.Headers.ContainsKey("Idempotency-Key");
        var deduplicated = isKeyedPost && context.GetEndpoint()?.Metadata.GetMetadata<DeduplicatedByRequestId>() is not null;
        if (!isRead && !isKeyedPost)
        {
            await next(context);
            return;
        }

        // A keyed POST is buffered once, and every attempt reads it from a fresh stream: a rewound stream is not
        // enough, since the request's PipeReader (what model binding reads) caches the end of the first read.
        byte[]? body = null;
        if (isKeyedPost)
        {
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy, context.RequestAborted);
            body = copy.ToArray();
        }

        // Headers set before this middleware (by outer middleware) survive a reset between attempts.
        var outerHeaders = context.Response.Headers.ToArray();
        for (var attempt = 0; ; attempt++)
        {
            if (body is not null)
            {
                context.Request.Body = new MemoryStream(body, writable: false);
            }

            try
            {
                await next(context);
                return;
            }
            catch (Exception ex) when (attempt < Backoff.Length && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested
                && (isRead || deduplicated ? IsTransient(ex) : CertainlyNotRun(ex)))
            {
                logger.LogWarning("Retrying {Method} {Path} after {Exception} (attempt {Attempt})", context.Request.Method, context.Request.Path, ex.GetType().Name, attempt + 1);

                // The failed attempt may have set a status and headers (201 and Location, then a later step threw):
                // the next attempt starts from a clean response, or it could answer 201 with another attempt's body.
                context.Response.Clear();
                foreach (var (name, value) in outerHeaders)
                {
                    context.Response.Headers[name] = value;
                }

                // The runtime's clock: a backoff for a cluster that is restarting, real time by nature.
                await Task.Delay(Backoff[attempt], time, context.RequestAborted);
            }
        }
    }

    // InconsistentStateException: a duplicate activation (left by a directory handoff while a silo stops) lost the
    // ETag race on its first write and is deactivated; nothing was stored, and the retry reaches the surviving one.
    // SiloFencedException: the silo refused the call before running it (it could not confirm its membership).
    // SiloUnavailableException derives from OrleansMessageRejectionException but is also how a silo breaks a call in
    // flight to a silo declared dead ("The target silo became unavailable for message ...", CallbackData.OnTargetSiloFail):
    // that call may have run. Only the rejections of undelivered messages (target known dead, send failed, gateway
    // refused) carry the parameterless exception's "Silo unavailable"; anything else is an unknown outcome, a 503.
    private static bool CertainlyNotRun(Exception ex) => ex switch
    {
        SiloUnavailableException unavailable => unavailable.Message == UndeliveredMessage,
        OrleansMessageRejectionException or ConnectionFailedException or InconsistentStateException or SiloFencedException => true,
        _ => false,
    };

    private static readonly string UndeliveredMessage = new SiloUnavailableException().Message;

    private static bool IsTransient(Exception ex) =>
        ex is SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException or TimeoutException or InconsistentStateException
            or SiloFencedException;
}

/// <summary>
/// Marks an endpoint whose grain deduplicates by the request id derived from the Idempotency-Key, so the gateway
/// may retry it even when the first attempt's outcome is unknown (a timeout).
/// </summary>
public sealed class DeduplicatedByRequestId;

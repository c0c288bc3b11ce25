using System.Security.Cryptography;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.ServiceDefaults.Idempotency;

namespace LiveGrains.Gateway.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on a POST: the first response for (tenant, key) is stored for 24 h and replayed for
/// the same request; the same key on a different request is refused, and a concurrent duplicate gets 409.
/// Responses of 5xx are not stored, so a failed attempt can be retried with the same key.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next, IIdempotencyStore store, ILogger<IdempotencyMiddleware> logger)
{
    public const string HeaderName = "Idempotency-Key";
    public const int MaxKeyLength = 255;
    private const int MaxStoredBodyBytes = 1 << 20;

    /// <summary>
    /// A digest of the request's Idempotency-Key (never the key itself), passed to grains that must answer a
    /// retry of a decision they already made, e.g. when the first attempt timed out after the room decided.
    /// </summary>
    public static string? RequestIdOf(HttpContext context) =>
        context.Request.Headers.TryGetValue(HeaderName, out var values) && values.ToString() is { Length: > 0 and <= MaxKeyLength } key
            ? Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..32]
            : null;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method)
            || !context.Request.Headers.TryGetValue(HeaderName, out var values)
            || context.User.Identity?.IsAuthenticated != true)
        {
            await next(context);
            return;
        }

        var key = values.ToString();
        if (key.Length is 0 or > MaxKeyLength || key.Any(c => c < 0x21 || c > 0x7e))
        {
            await Problems.Write(context, StatusCodes.Status400BadRequest, "validation_failed", "Invalid Idempotency-Key.",
                new Dictionary<string, string[]> { [HeaderName] = [$"1-{MaxKeyLength} visible ASCII characters."] });
            return;
        }

        var tenant = context.User.Tenant();
        var fingerprint = await FingerprintAsync(context.Request);
        var keyHash = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        var decision = await store.BeginAsync(tenant, keyHash, fingerprint);
        switch (decision.Outcome)
        {
            case IdempotencyOutcome.Replay:
                await ReplayAsync(context, decision.Response!);
                return;
            case IdempotencyOutcome.InProgress:
                await Problems.Write(context, StatusCodes.Status409Conflict, "idempotency_in_progress", "A request with this Idempotency-Key is still being processed; retry later.");
                return;
            case IdempotencyOutcome.Mismatch:
                await Problems.Write(context, StatusCodes.Status400BadRequest, "validation_failed", "This Idempotency-Key was used for a different request.",
                    new Dictionary<string, string[]> { [HeaderName] = ["Already used with another method, path or body."] });
                return;
        }

        // A keyed request runs to the end and its answer is stored even when its client has gone (a client timeout):
        // the client's retry gets that answer replayed. Writing the answer with the client's aborted token would leave
        // an empty body, and that empty body would be what every retry of the key gets.
        var original = context.Response.Body;
        var clientAborted = context.RequestAborted;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        context.RequestAborted = CancellationToken.None;
        try
        {
            await next(context);
        }
        catch
        {
            await TryAbandonAsync(store, tenant, keyHash, fingerprint);
            throw;
        }
        finally
        {
            context.Response.Body = original;
            context.RequestAborted = clientAborted;
        }

        buffer.Position = 0;
        var status = context.Response.StatusCode;
        if (buffer.Length == 0 && (status == StatusCodes.Status201Created || context.Response.ContentType is not null))
        {
            // A 201 always carries what it created, and an answer with a content type has a body; one without is a
            // bug (e.g. a status left by an earlier attempt, a write cut short) and must never become the stored
            // answer of this key.
            logger.LogError("{Method} {Path} answered {Status} without a body; not stored for its Idempotency-Key", context.Request.Method, context.Request.Path, status);
            await TryAbandonAsync(store, tenant, keyHash, fingerprint);
        }
        else if (status >= 500 || buffer.Length > MaxStoredBodyBytes)
        {
            await TryAbandonAsync(store, tenant, keyHash, fingerprint);
        }
        else
        {
            try
            {
                await store.CompleteAsync(tenant, keyHash, fingerprint, new StoredResponse(
                    status, context.Response.ContentType, context.Response.Headers.Location.ToString() is { Length: > 0 } l ? l : null, buffer.ToArray()));
            }
            catch (Exception ex)
            {
                // The work happened (the room decided, the live changed): the caller must get its answer, not a 503
                // that invites a retry. The key stays leased until its lease runs out; a retry after that re-runs
                // the request, which the room answers with its first decision (request id), see docs/consistency.md.
                logger.LogWarning(ex, "Idempotency-Key response for {Method} {Path} could not be stored; answering it anyway", context.Request.Method, context.Request.Path);
            }
        }

        if (!context.RequestAborted.IsCancellationRequested)
        {
            await buffer.CopyToAsync(original, context.RequestAborted);
        }
    }

    /// <summary>
    /// Best effort: the original failure is what the caller must see. If the abandon is lost too, the key's lease
    /// runs out after 60 s and a retry in the meantime gets 409 idempotency_in_progress.
    /// </summary>
    private static async Task TryAbandonAsync(IIdempotencyStore store, string tenant, string keyHash, string fingerprint)
    {
        try
        {
            await store.AbandonAsync(tenant, keyHash, fingerprint);
        }
        catch (Exception)
        {
            // Deliberately ignored; see the summary.
        }
    }

    private static async Task<string> FingerprintAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n"));
        var buffer = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            sha.AppendData(buffer, 0, read);
        }

        request.Body.Position = 0;
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static async Task ReplayAsync(HttpContext context, StoredResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        context.Response.ContentType = response.ContentType;
        if (response.Location is not null)
        {
            context.Response.Headers.Location = response.Location;
        }

        context.Response.Headers["Idempotent-Replayed"] = "true";
        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted);
    }
}

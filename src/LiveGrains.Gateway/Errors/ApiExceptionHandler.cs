using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Storage;

namespace LiveGrains.Gateway.Errors;

/// <summary>
/// Turns what escapes an endpoint into problem details: unreadable input is the client's 400/413, a cluster
/// that cannot answer right now is 503 with Retry-After, anything else a 500 without internals.
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                await Problems.Write(context, StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The request body is too large.");
                return true;

            case BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType }:
                await Problems.Write(context, StatusCodes.Status400BadRequest, "validation_failed", "The body must be JSON (Content-Type: application/json).",
                    new Dictionary<string, string[]> { ["body"] = ["Expected Content-Type: application/json."] });
                return true;

            case BadHttpRequestException bad:
                var (field, message) = Describe(bad);
                await Problems.Write(context, StatusCodes.Status400BadRequest, "validation_failed", "The request could not be read.",
                    new Dictionary<string, string[]> { [field] = [message] });
                return true;

            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true;

            // OrleansException covers storage-provider failures (Redis down); Redis and Azure errors also come from the
            // idempotency records, which the gateway reads from the store directly; RedisStorageException from a grain's
            // direct storage read (an ended live's archive) while Redis was killed answered 500 in a chaos run. and the runtime's own transient errors. An
            // OperationCanceledException that is not the caller's is the runtime cancelling the call, e.g. the distributed
            // grain directory cancelling a lookup or registration while the silo owning that range died (docs/chaos.md).
            case SiloUnavailableException or TimeoutException or OrleansMessageRejectionException or InconsistentStateException
                or Orleans.Runtime.Messaging.ConnectionFailedException or OrleansException or StackExchange.Redis.RedisException
                or Orleans.Persistence.Redis.RedisStorageException or Azure.RequestFailedException or OperationCanceledException:
                logger.LogWarning(exception, "Cluster unavailable for {Method} {Path}", context.Request.Method, context.Request.Path);
                context.Response.Headers.RetryAfter = "1";
                await Problems.Write(context, StatusCodes.Status503ServiceUnavailable, "unavailable", "The cluster could not complete the request right now; retry it (with the same Idempotency-Key).");
                return true;

            default:
                logger.LogError(exception, "Unhandled error for {Method} {Path}", context.Request.Method, context.Request.Path);
                await Problems.Write(context, StatusCodes.Status500InternalServerError, "internal_error", "An unexpected error occurred.");
                return true;
        }
    }

    private static (string Field, string Message) Describe(BadHttpRequestException bad)
    {
        for (Exception? e = bad; e is not null; e = e.InnerException)
        {
            if (e is JsonException json)
            {
                var path = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
                var message = json.Message.Contains("could not be mapped", StringComparison.Ordinal)
                    ? "Unknown field."
                    : json.Message.Contains("could not be converted", StringComparison.Ordinal)
                        ? "Wrong type or value."
                        : "Invalid JSON.";
                return (path, message);
            }
        }

        return bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase)
            ? ("body", "A JSON body is required.")
            : ("request", "The request could not be read.");
    }
}

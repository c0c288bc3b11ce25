using System.Text.Json;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis.Compat;

/// <summary>
/// How a seed platform shapes an error. Also endpoint metadata: the gateway's shared middleware (the access policy's
/// 403, the rate limiter's 429) answers a compat endpoint in its platform's shape instead of problem details, so a
/// platform's client parses every error it can get.
/// </summary>
public interface ICompatErrors
{
    /// <summary>The body of an error; <paramref name="code"/> is LiveGrains' stable code (<c>not_found</c>, ...).</summary>
    JsonObject Body(int status, string code, string message);

    /// <summary>The HTTP status the platform answers for an error LiveGrains answers with <paramref name="status"/>.</summary>
    int Status(int status) => status;

    JsonHttpResult<JsonObject> Result(int status, string code, string message) =>
        TypedResults.Json(Body(status, code, message), CompatJson.Options, statusCode: Status(status));

    JsonHttpResult<JsonObject> Result(DomainError error)
    {
        var (status, code) = Problems.StatusAndCode(error);
        var message = error.Field is { } field && error.Code == DomainErrorCode.ValidationFailed ? $"{field}: {error.Detail}" : error.Detail;
        return Result(status, code, message);
    }

    Task WriteAsync(HttpContext context, int status, string code, string message) =>
        Result(status, code, message).ExecuteAsync(context);
}

public static class CompatJson
{
    /// <summary>
    /// Compat bodies are built as <see cref="JsonObject"/>s with the platform's own field names written out, so the global
    /// snake_case policy never renames them and a null field is written as null, as the seed documents show.
    /// </summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The request body as JSON, tolerating unknown fields the way the platforms do (they are simply not read). Null for
    /// an empty body; <c>Malformed</c> when it is not JSON or not an object.
    /// </summary>
    public static async Task<(JsonElement? Body, bool Malformed)> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.TransferEncoding.Any()))
        {
            return (null, false);
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return document.RootElement.ValueKind == JsonValueKind.Object ? (document.RootElement.Clone(), false) : (null, true);
        }
        catch (JsonException)
        {
            return (null, true);
        }
    }

    public static string? String(this JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    /// <summary>True when the member is present and not a string or null: a typed mistake the platforms refuse with 400.</summary>
    public static bool IsNotString(this JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var p) && p.ValueKind is not (JsonValueKind.String or JsonValueKind.Null);

    public static JsonElement? Member(this JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var p) && p.ValueKind != JsonValueKind.Null ? p : null;

    public static long? EpochMs(DateTimeOffset? at) => at?.ToUnixTimeMilliseconds();

    /// <summary>ISO 8601 with an explicit offset, as PRISM writes it (<c>2023-12-13T02:00:00+00:00</c>).</summary>
    public static string? Iso8601Offset(DateTimeOffset? at) =>
        at?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>RFC 3339 UTC seconds with a 'Z' (<c>2023-11-07T05:31:56Z</c>), as the LiveKit-based platform writes it.</summary>
    public static string? Rfc3339Seconds(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>RFC 3339 UTC milliseconds with a 'Z' (<c>2022-06-03T13:24:29.000Z</c>), as Gcore writes it.</summary>
    public static string? Rfc3339Millis(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

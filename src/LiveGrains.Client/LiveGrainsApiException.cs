using System.Net;

namespace LiveGrains.Client;

/// <summary>
/// An error answer of the API (RFC 9457 problem details): the HTTP status, the stable machine <see cref="Code"/>
/// (<c>validation_failed</c>, <c>not_found</c>, <c>invalid_transition</c>, ...), the title and detail, for a 400 the
/// <see cref="Errors"/> by field name, and which request failed (<see cref="Method"/> and <see cref="Path"/>, never
/// the query string).
/// </summary>
public sealed class LiveGrainsApiException(
    HttpStatusCode status,
    string? code,
    string? title,
    string? detail,
    IReadOnlyDictionary<string, string[]> errors,
    TimeSpan? retryAfter = null,
    HttpMethod? method = null,
    string? path = null)
    : Exception(FormatMessage(status, code, title, detail, method, path))
{
    public HttpStatusCode Status { get; } = status;

    public string? Code { get; } = code;

    public string? Title { get; } = title;

    public string? Detail { get; } = detail;

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    /// <summary>From <c>Retry-After</c> on a 429 or 503.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The failed request's method.</summary>
    public HttpMethod? Method { get; } = method;

    /// <summary>The failed request's path (<c>/v1/rooms/main/go-live</c>), without the query, which may carry a cursor.</summary>
    public string? Path { get; } = path;

    private static string FormatMessage(HttpStatusCode status, string? code, string? title, string? detail, HttpMethod? method, string? path) =>
        $"LiveGrains API {(int)status} {code ?? status.ToString()}: {detail ?? title ?? "no detail"}"
        + (method is null || path is null ? "" : $" ({method} {path})");
}

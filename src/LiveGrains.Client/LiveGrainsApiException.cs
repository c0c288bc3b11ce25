using System.Net;

namespace LiveGrains.Client;

/// <summary>
/// An error answer of the API (RFC 9457 problem details): the HTTP status, the stable machine <see cref="Code"/>
/// (<c>validation_failed</c>, <c>not_found</c>, <c>invalid_transition</c>, ...), the title and detail, and for a 400 the
/// <see cref="Errors"/> by field name.
/// </summary>
public sealed class LiveGrainsApiException(
    HttpStatusCode status,
    string? code,
    string? title,
    string? detail,
    IReadOnlyDictionary<string, string[]> errors,
    TimeSpan? retryAfter = null)
    : Exception(FormatMessage(status, code, title, detail))
{
    public HttpStatusCode Status { get; } = status;

    public string? Code { get; } = code;

    public string? Title { get; } = title;

    public string? Detail { get; } = detail;

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    /// <summary>From <c>Retry-After</c> on a 429 or 503.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    private static string FormatMessage(HttpStatusCode status, string? code, string? title, string? detail) =>
        $"LiveGrains API {(int)status} {code ?? status.ToString()}: {detail ?? title ?? "no detail"}";
}

using LiveGrains.Abstractions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LiveGrains.Gateway;

/// <summary>RFC 9457 problem details with LiveGrains' stable <c>code</c> extension.</summary>
public static class Problems
{
    public const string TypeBase = "https://livegrains.dev/errors/";

    public static ProblemHttpResult From(DomainError error)
    {
        var (status, code) = StatusAndCode(error);
        var errors = error.Code == DomainErrorCode.ValidationFailed && error.Field is { } field
            ? new Dictionary<string, string[]> { [field] = [error.Detail] }
            : null;
        return Create(status, code, error.Detail, errors);
    }

    /// <summary>The HTTP status and stable code of a domain error (also what the seed platforms' adapters translate).</summary>
    public static (int Status, string Code) StatusAndCode(DomainError error) =>
        error.Code switch
        {
            DomainErrorCode.ValidationFailed => (StatusCodes.Status400BadRequest, "validation_failed"),
            DomainErrorCode.NotFound => (StatusCodes.Status404NotFound, "not_found"),
            DomainErrorCode.RoomExists => (StatusCodes.Status409Conflict, "room_exists"),
            DomainErrorCode.InvalidTransition => (StatusCodes.Status409Conflict, "invalid_transition"),
            DomainErrorCode.LiveAlreadyActive => (StatusCodes.Status409Conflict, "live_already_active"),
            DomainErrorCode.LiveEnded => (StatusCodes.Status409Conflict, "live_ended"),
            DomainErrorCode.Forbidden => (StatusCodes.Status403Forbidden, "forbidden"),
            DomainErrorCode.Unavailable => (StatusCodes.Status503ServiceUnavailable, "unavailable"),
            DomainErrorCode.JoinLimitReached => (StatusCodes.Status409Conflict, "join_limit_reached"),
            DomainErrorCode.ChatDisabled => (StatusCodes.Status409Conflict, "chat_disabled"),
            _ => (StatusCodes.Status400BadRequest, "validation_failed"),
        };

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors) =>
        Create(StatusCodes.Status400BadRequest, "validation_failed", "The request has invalid fields.", errors);

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Create(int status, string code, string detail, IDictionary<string, string[]>? errors = null)
    {
        var problem = errors is null ? new ProblemDetails() : new HttpValidationProblemDetails(errors);
        Fill(problem, status, code, detail);
        return TypedResults.Problem(problem);
    }

    public static Task Write(HttpContext context, int status, string code, string detail, IDictionary<string, string[]>? errors = null) =>
        Create(status, code, detail, errors).ExecuteAsync(context);

    public static string CodeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "validation_failed",
        StatusCodes.Status401Unauthorized => "unauthorized",
        StatusCodes.Status403Forbidden => "forbidden",
        StatusCodes.Status404NotFound => "not_found",
        StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
        StatusCodes.Status413PayloadTooLarge => "payload_too_large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported_media_type",
        StatusCodes.Status429TooManyRequests => "rate_limited",
        StatusCodes.Status503ServiceUnavailable => "unavailable",
        >= 500 => "internal_error",
        _ => "error",
    };

    /// <summary>The detail of a problem the framework raised (unknown route, wrong method): RFC 9457 bodies always carry one.</summary>
    public static string DefaultDetail(int status) => status switch
    {
        StatusCodes.Status404NotFound => "There is nothing at this path.",
        StatusCodes.Status405MethodNotAllowed => "This path does not accept this method.",
        StatusCodes.Status415UnsupportedMediaType => "The body must be JSON (Content-Type: application/json).",
        _ => "The request could not be completed.",
    };

    public static void Fill(ProblemDetails problem, int status, string code, string? detail)
    {
        problem.Status = status;
        problem.Type = TypeBase + code;
        problem.Title ??= Title(code);
        problem.Detail ??= detail;
        problem.Extensions["code"] = code;
    }

    private static string Title(string code) => code switch
    {
        "validation_failed" => "Validation failed",
        "unauthorized" => "Unauthorized",
        "forbidden" => "Forbidden",
        "not_found" => "Not found",
        "room_exists" => "Room exists",
        "invalid_transition" => "Invalid transition",
        "live_already_active" => "Live already active",
        "live_ended" => "Live ended",
        "payload_too_large" => "Payload too large",
        "rate_limited" => "Rate limited",
        "unavailable" => "Service unavailable",
        "join_limit_reached" => "Join limit reached",
        "chat_disabled" => "Chat disabled",
        _ => "Error",
    };
}

namespace LiveGrains.Abstractions;

/// <summary>The stable machine codes of the public API (api.md, General).</summary>
public enum DomainErrorCode
{
    ValidationFailed = 0,
    NotFound = 1,
    RoomExists = 2,
    InvalidTransition = 3,
    LiveAlreadyActive = 4,
    LiveEnded = 5,
    Forbidden = 6,
    Unavailable = 7,

    // Presets and limits (issue 13). Numbered apart from the others so that codes other branches add never collide.

    /// <summary>A join would take the live's audience above its effective join limit (409 <c>join_limit_reached</c>).</summary>
    JoinLimitReached = 20,

    /// <summary>Chat messages while the live's chat is disabled (409 <c>chat_disabled</c>).</summary>
    ChatDisabled = 21,
}

/// <summary>A business rule refused a command. Grains return these; the gateway maps them to ProblemDetails.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.DomainError")]
public sealed record DomainError(
    [property: Id(0)] DomainErrorCode Code,
    [property: Id(1)] string Detail,
    [property: Id(2)] string? Field = null)
{
    public static DomainError NotFound(string what) => new(DomainErrorCode.NotFound, $"{what} was not found.");
}

/// <summary>Either a value or a <see cref="DomainError"/>; grain calls never throw for business outcomes.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.Result`1")]
public sealed record Result<T>(
    [property: Id(0)] T? Value,
    [property: Id(1)] DomainError? Error)
{
    public bool IsSuccess => Error is null;

    public static Result<T> Ok(T value) => new(value, null);

    public static Result<T> Fail(DomainError error) => new(default, error);

    public static implicit operator Result<T>(DomainError error) => Fail(error);

    public static implicit operator Result<T>(T value) => Ok(value);
}

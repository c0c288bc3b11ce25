namespace LiveGrains.Abstractions;

public enum IdempotencyOutcome
{
    /// <summary>First use: the caller runs the request and then calls Complete or Abandon.</summary>
    Proceed = 0,

    /// <summary>Already answered: replay <see cref="IdempotencyDecision.Response"/>.</summary>
    Replay = 1,

    /// <summary>The first request with this key is still running.</summary>
    InProgress = 2,

    /// <summary>The key was used for a different request.</summary>
    Mismatch = 3,
}

[GenerateSerializer, Immutable, Alias("LiveGrains.StoredResponse")]
public sealed record StoredResponse(
    [property: Id(0)] int StatusCode,
    [property: Id(1)] string? ContentType,
    [property: Id(2)] string? Location,
    [property: Id(3)] byte[] Body);

[GenerateSerializer, Immutable, Alias("LiveGrains.IdempotencyDecision")]
public sealed record IdempotencyDecision(
    [property: Id(0)] IdempotencyOutcome Outcome,
    [property: Id(1)] StoredResponse? Response);

/// <summary>One Idempotency-Key of one tenant (key "tenant/hash-of-key"); remembers the first response for 24 h.</summary>
[Alias("LiveGrains.IIdempotencyGrain")]
public interface IIdempotencyGrain : IGrainWithStringKey
{
    [Alias("Begin")]
    Task<IdempotencyDecision> BeginAsync(string requestFingerprint);

    [Alias("Complete")]
    Task CompleteAsync(string requestFingerprint, StoredResponse response);

    [Alias("Abandon")]
    Task AbandonAsync(string requestFingerprint);
}

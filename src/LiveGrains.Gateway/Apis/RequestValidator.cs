using LiveGrains.Abstractions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

/// <summary>Collects field errors of one request; snake_case field names as clients send them.</summary>
public sealed class RequestValidator
{
    public const int MaxTitleLength = 200;
    public const int MaxActorLength = 128;
    public const int MaxReconnectWindowSeconds = 86_400;

    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public ProblemHttpResult Problem => Problems.Validation(_errors);

    public RequestValidator ClientId(string field, string? value, bool required = true)
    {
        if (value is null ? required : !Ids.IsValidClientId(value))
        {
            Add(field, $"Must be 1-{Ids.MaxClientIdLength} characters of A-Z, a-z, 0-9, '_', '.', '-'.");
        }

        return this;
    }

    public RequestValidator ServerId(string field, string value, string prefix)
    {
        if (!Ids.IsValidServerId(value, prefix))
        {
            Add(field, $"Not a valid id (expected '{prefix}...').");
        }

        return this;
    }

    public RequestValidator LiveId(string field, string value)
    {
        if (!Ids.IsValidLiveId(value))
        {
            Add(field, "Not a valid live id (expected 'lv_...').");
        }

        return this;
    }

    public RequestValidator Text(string field, string? value, int maxLength)
    {
        if (value is not null && (value.Length > maxLength || value.Any(char.IsControl)))
        {
            Add(field, $"At most {maxLength} characters, no control characters.");
        }

        return this;
    }

    public RequestValidator Range(string field, long? value, long min, long max)
    {
        if (value is { } v && (v < min || v > max))
        {
            Add(field, $"Must be between {min} and {max}.");
        }

        return this;
    }

    public RequestValidator Defined<TEnum>(string field, TEnum? value)
        where TEnum : struct, Enum
    {
        if (value is { } v && !Enum.IsDefined(v))
        {
            Add(field, "Unknown value.");
        }

        return this;
    }

    public RequestValidator Add(string field, string message)
    {
        _errors[field] = _errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        return this;
    }
}

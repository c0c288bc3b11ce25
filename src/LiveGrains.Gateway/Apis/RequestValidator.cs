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

    /// <summary>
    /// A room's <c>co_host_ids</c>: at most <see cref="ResourceLimits.MaxCoHosts"/> distinct user ids, each as a
    /// <c>host_id</c>. Bounded because every token-driven lifecycle call of the room reads them.
    /// </summary>
    public RequestValidator CoHostIds(string field, string[]? values)
    {
        if (values is null)
        {
            return this;
        }

        if (values.Length > ResourceLimits.MaxCoHosts)
        {
            return Add(field, $"At most {ResourceLimits.MaxCoHosts} co-hosts.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is not { } id || !Ids.IsValidClientId(id))
            {
                Add($"{field}[{i}]", $"Must be 1-{Ids.MaxClientIdLength} characters of A-Z, a-z, 0-9, '_', '.', '-'.");
            }
            else if (!seen.Add(id))
            {
                Add($"{field}[{i}]", "Listed twice.");
            }
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

    /// <summary>A free text of up to <paramref name="maxLength"/> characters; line breaks and tabs allowed.</summary>
    public RequestValidator Description(string field, string? value, int maxLength = ResourceLimits.MaxDescriptionLength)
    {
        if (value is not null && (value.Length > maxLength || value.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))))
        {
            Add(field, $"At most {maxLength} characters; no control characters other than line breaks and tabs.");
        }

        return this;
    }

    /// <summary>An object of string values: at most 32 keys of 1-128 characters, at most 4 KB (UTF-8 keys and values).</summary>
    public RequestValidator Metadata(string field, Dictionary<string, string>? value)
    {
        if (value is null)
        {
            return this;
        }

        if (value.Count > ResourceLimits.MaxMetadataKeys)
        {
            Add(field, $"At most {ResourceLimits.MaxMetadataKeys} keys.");
        }

        if (value.Keys.Any(k => k.Length is 0 or > ResourceLimits.MaxMetadataKeyLength || k.Any(char.IsControl)))
        {
            Add(field, $"Keys are 1-{ResourceLimits.MaxMetadataKeyLength} characters, no control characters.");
        }

        if (value.Values.Any(v => v is null))
        {
            Add(field, "Values must be strings.");
        }

        var bytes = value.Sum(p => System.Text.Encoding.UTF8.GetByteCount(p.Key) + System.Text.Encoding.UTF8.GetByteCount(p.Value ?? string.Empty));
        if (bytes > ResourceLimits.MaxMetadataBytes)
        {
            Add(field, $"At most {ResourceLimits.MaxMetadataBytes} bytes of keys and values (UTF-8); this has {bytes}.");
        }

        return this;
    }

    /// <summary>The descriptive fields of a room or live (api.md "More on rooms and lives").</summary>
    public RequestValidator Details(string? description, Dictionary<string, string>? metadata, Visibility? visibility, string? createdBy = null) =>
        Description("description", description)
            .Metadata("metadata", metadata)
            .Defined("visibility", visibility)
            .Text("created_by", createdBy, MaxActorLength);

    /// <summary>A live's overrides of its preset (api.md "Presets and limits").</summary>
    public RequestValidator Overrides(long? maxJoinLimitOverride) =>
        Range("max_join_limit_override", maxJoinLimitOverride, 1, PresetLimits.MaxJoinLimit);

    /// <summary>A preset id in a room's body; <paramref name="clearable"/>: an empty string removes the room's preset.</summary>
    public RequestValidator PresetId(string field, string? value, bool clearable = false)
    {
        if (value is not null && !(clearable && value.Length == 0) && !Ids.IsValidServerId(value, "ps_"))
        {
            Add(field, "Not a valid preset id (expected 'ps_...').");
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

using System.Text.Json;
using System.Text.Json.Serialization;

namespace LiveGrains.Abstractions;

/// <summary>Who may see a room or live (PRISM's scope); a live without its own takes its room's.</summary>
public enum Visibility
{
    Public = 0,
    Limited = 1,
    Private = 2,
}

/// <summary>
/// The descriptive fields of a room or live as a create or update gives them (api.md "More on rooms and lives"). In an
/// update, a null member is left as it is; an empty description clears it; metadata replaces the whole map.
/// </summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.ResourceDetails")]
public sealed record ResourceDetails(
    [property: Id(0)] string? Description = null,
    [property: Id(1)] Dictionary<string, string>? Metadata = null,
    [property: Id(2)] Visibility? Visibility = null,
    [property: Id(3)] string? CreatedBy = null);

/// <summary>One transition of a live, for <c>GET /v1/lives/{live_id}/transitions</c>: the audit trail of who did what.</summary>
[GenerateSerializer, Immutable, Alias("LiveGrains.LiveTransitionRecord")]
public sealed record LiveTransitionRecord(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] LiveStatus? From,
    [property: Id(2)] LiveStatus To,
    [property: Id(3)] string? By,
    [property: Id(4)] EndReason? Reason);

/// <summary>Limits of the descriptive fields, shared by the gateway's validation and the docs.</summary>
public static class ResourceLimits
{
    public const int MaxDescriptionLength = 2_000;
    public const int MaxMetadataKeys = 32;
    public const int MaxMetadataBytes = 4_096;
    public const int MaxMetadataKeyLength = 128;

    /// <summary>Transitions kept per live: the first (its creation) and the latest ones.</summary>
    public const int MaxTransitions = 100;

    /// <summary>A room's <c>co_host_ids</c> at most (host only reads them on every token-driven lifecycle call).</summary>
    public const int MaxCoHosts = 20;
}

/// <summary>
/// Writes metadata keys exactly as the client sent them: the API's snake_case dictionary-key policy is for LiveGrains'
/// own maps, not for a client's.
/// </summary>
public sealed class VerbatimKeysJsonConverter : JsonConverter<Dictionary<string, string>>
{
    public override Dictionary<string, string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected an object of string values.");
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            if (!reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException("Metadata values must be strings.");
            }

            map[key] = reader.GetString()!;
        }

        return map;
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (key, item) in value)
        {
            writer.WriteString(key, item);
        }

        writer.WriteEndObject();
    }
}

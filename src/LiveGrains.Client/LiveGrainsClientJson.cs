using System.Text.Json;
using System.Text.Json.Serialization;

namespace LiveGrains.Client;

/// <summary>The API's wire format: snake_case names, RFC 3339 timestamps; unset request fields are left out.</summary>
public static class LiveGrainsClientJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

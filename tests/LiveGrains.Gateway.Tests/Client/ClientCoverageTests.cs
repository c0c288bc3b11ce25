using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using LiveGrains.Client;

namespace LiveGrains.Gateway.Tests.Client;

/// <summary>
/// The typed client against the gateway's live OpenAPI document: every <c>/v1</c> operation has a client method, no
/// client method names an operation the gateway lacks, and every JSON shape those operations use has a client record
/// with exactly the same property names. A new endpoint or field without its client counterpart fails here.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ClientCoverageTests(GatewayFactory factory)
{
    /// <summary>
    /// The media servers' callbacks: authenticated by the shared callback secret and spoken by nginx-rtmp, SRS and
    /// MediaMTX in their own dialects, not by a tenant's application, so the tenant client leaves them out.
    /// </summary>
    private static readonly HashSet<string> NotForTenants = new(StringComparer.Ordinal)
    {
        "POST /v1/ingest-hooks/nginx-rtmp",
        "POST /v1/ingest-hooks/srs",
        "POST /v1/ingest-hooks/mediamtx",
        "POST /v1/ingest-hooks/mediamtx-recording",
        "POST /v1/ingest-hooks/restream",
    };

    /// <summary>Document schemas whose client record has another name (the gateway's DTO names are internal detail).</summary>
    private static readonly Dictionary<string, Type> Renamed = new(StringComparer.Ordinal)
    {
        ["ActivityBody"] = typeof(ActivityBatch),
        ["ApiKeyDto"] = typeof(ApiKey),
        ["CountBody"] = typeof(CountRequest),
        ["CreatedApiKeyDto"] = typeof(CreatedApiKey),
        ["DestinationDto"] = typeof(Destination),
        ["LiveDto"] = typeof(Live),
        ["LiveHostDto"] = typeof(LiveHost),
        ["LiveTransitionRecord"] = typeof(LiveTransition),
        ["PlaybackDto"] = typeof(Playback),
        ["PresetDto"] = typeof(Preset),
        ["RecordingSessionDto"] = typeof(RecordingSession),
        ["RoomDto"] = typeof(Room),
        ["StatsDto"] = typeof(LiveGrains.Client.Stats),
        ["StreamResource"] = typeof(LiveStream),
        ["TokenGrantsRequest"] = typeof(TokenGrants),
        ["TokenResponse"] = typeof(IssuedToken),
        ["VideoDto"] = typeof(Video),
        ["WebhookDeliveryDto"] = typeof(WebhookDelivery),
        ["WebhookDto"] = typeof(Webhook),
        ["AuditPage"] = typeof(Page<>),
        ["EventFeedPage"] = typeof(Page<>),
        ["WebhookDeliveryPage"] = typeof(Page<>),
    };

    [Fact]
    public async Task EveryV1OperationOfTheOpenApiDocumentHasExactlyOneClientMethod()
    {
        using var document = await OpenApiAsync();
        var served = Operations(document.RootElement).Keys.ToHashSet(StringComparer.Ordinal);
        Assert.Superset(NotForTenants, served); // the exclusions are real operations, not stale names
        Assert.True(served.Count > 50, $"the document lists only {served.Count} /v1 operations");

        var methods = typeof(LiveGrainsClient).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Select(m => (m.Name, Operation: m.GetCustomAttribute<LiveGrainsOperationAttribute>()))
            .Where(m => m.Operation is not null)
            .ToList();
        var duplicates = methods.GroupBy(m => m.Operation!.ToString()).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "operations with more than one client method: " + string.Join(", ", duplicates));

        var client = methods.Select(m => m.Operation!.ToString()).ToHashSet(StringComparer.Ordinal);
        var missing = served.Except(NotForTenants).Except(client).Order(StringComparer.Ordinal).ToList();
        var unknown = client.Except(served).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "served /v1 operations without a LiveGrainsClient method: " + string.Join(", ", missing));
        Assert.True(unknown.Count == 0, "client methods naming operations the gateway does not serve: " + string.Join(", ", unknown));
    }

    [Fact]
    public async Task EveryJsonShapeOfTheClientsOperationsHasAClientRecordWithTheSamePropertyNames()
    {
        using var document = await OpenApiAsync();
        var root = document.RootElement;
        var schemas = root.GetProperty("components").GetProperty("schemas");

        // Every schema reachable from a tenant operation's parameters, bodies and answers.
        var reachable = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<JsonElement>(Operations(root).Where(o => !NotForTenants.Contains(o.Key)).Select(o => o.Value));
        while (pending.TryPop(out var element))
        {
            foreach (var reference in References(element))
            {
                if (reachable.Add(reference))
                {
                    pending.Push(schemas.GetProperty(reference));
                }
            }
        }

        var problems = new List<string>();
        var checkedShapes = 0;
        foreach (var name in reachable)
        {
            var schema = schemas.GetProperty(name);
            if (!schema.TryGetProperty("properties", out var properties) || !properties.EnumerateObject().Any())
            {
                continue; // enums (strings in the client) and free-form objects (a feed event's data)
            }

            var type = ClientType(name);
            if (type is null)
            {
                problems.Add($"{name}: no client record");
                continue;
            }

            checkedShapes++;
            var served = properties.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            var client = JsonNames(type);
            if (served.Except(client).ToList() is { Count: > 0 } lacking)
            {
                problems.Add($"{name} -> {type.Name} lacks {string.Join(", ", lacking)}");
            }

            if (client.Except(served).ToList() is { Count: > 0 } extra)
            {
                problems.Add($"{name} -> {type.Name} has {string.Join(", ", extra)}, which the document does not");
            }
        }

        Assert.True(problems.Count == 0, string.Join("; ", problems));
        Assert.True(checkedShapes >= 40, $"only {checkedShapes} shapes compared");
    }

    private async Task<JsonDocument> OpenApiAsync()
    {
        using var http = factory.CreateClient();
        return JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
    }

    /// <summary>"METHOD /v1/path/{template}" to the operation object, for every /v1 path.</summary>
    private static Dictionary<string, JsonElement> Operations(JsonElement root)
    {
        var operations = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var path in root.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                operations[$"{method.Name.ToUpperInvariant()} {path.Name}"] = method.Value;
            }
        }

        return operations;
    }

    private static IEnumerable<string> References(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "$ref" && property.Value.GetString() is { } reference && reference.StartsWith("#/components/schemas/", StringComparison.Ordinal))
                    {
                        yield return reference["#/components/schemas/".Length..];
                    }
                    else
                    {
                        foreach (var inner in References(property.Value))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var inner in References(item))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    private static Type? ClientType(string schema) =>
        Renamed.TryGetValue(schema, out var renamed) ? renamed
        : schema.StartsWith("ListResponseOf", StringComparison.Ordinal) ? typeof(Page<>)
        : typeof(LiveGrainsClient).Assembly.GetType("LiveGrains.Client." + schema);

    /// <summary>The JSON property names the client reads and writes for <paramref name="type"/>.</summary>
    private static HashSet<string> JsonNames(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? LiveGrainsClientJson.Options.PropertyNamingPolicy!.ConvertName(p.Name))
            .ToHashSet(StringComparer.Ordinal);
}

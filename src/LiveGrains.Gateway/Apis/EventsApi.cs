using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.Grains.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

/// <summary>
/// The pull event feed (api.md "Event feed"): every event of the tenant, the webhook bodies with their <c>id</c>, kept
/// 7 days whether or not a webhook endpoint exists. Reads the tenant's feed shards (docs/events.md) and merges them by
/// time; the cursor holds a position per shard, so it is stateless, survives restarts and never skips or repeats.
/// </summary>
public static class EventsApi
{
    private const string CursorPrefix = "f1:";

    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/events").WithTags("Events").RequireAuthorization();
        api.MapGet("/", ListEventsAsync).WithName("ListEvents")
            .WithSummary("Every event of the tenant after a cursor (the webhook bodies with their id), in order per resource, kept 7 days.");
        return api;
    }

    public static async Task<Results<Ok<EventFeedPage>, ProblemHttpResult>> ListEventsAsync(
        ClaimsPrincipal user, IGrainFactory grains, string? after = null, string[]? types = null, int? limit = null)
    {
        var check = new RequestValidator().Range("limit", limit, 1, RoomsApi.MaxPageSize).Text("after", after, 512);
        var positions = new long[EventFeed.Shards];
        if (after is not null && !TryDecode(after, positions))
        {
            check.Add("after", "Not a cursor of this feed (use next_cursor as given).");
        }

        var wanted = (types ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet(StringComparer.Ordinal);
        if (wanted.FirstOrDefault(t => !EventTypes.All.Contains(t)) is { } unknown)
        {
            check.Add("types", $"Unknown event type '{unknown}'.");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var size = limit ?? RoomsApi.DefaultPageSize;
        var tenant = user.Tenant();
        var shards = await Task.WhenAll(Enumerable.Range(0, EventFeed.Shards).Select(shard =>
            grains.Get<IEventFeedShardGrain>(EventFeed.ShardKey(tenant, shard)).ReadAsync(positions[shard], size)));

        // Merge by time across shards (a resource's events are all in one shard, in order). A shard that returned a full
        // page may have more: the walk stops at its last entry, so nothing later than an unread entry is passed over.
        var next = (long[])positions.Clone();
        var items = new List<JsonObject>(size);
        var cursors = shards.Select(_ => 0).ToArray();
        while (items.Count < size)
        {
            var best = -1;
            for (var shard = 0; shard < shards.Length; shard++)
            {
                if (cursors[shard] < shards[shard].Length
                    && (best < 0 || shards[shard][cursors[shard]].Event.Timestamp < shards[best][cursors[best]].Event.Timestamp))
                {
                    best = shard;
                }
            }

            if (best < 0)
            {
                break;
            }

            var entry = shards[best][cursors[best]++];
            next[best] = entry.Position;
            if (wanted.Count == 0 || wanted.Contains(entry.Event.Type))
            {
                items.Add(Body(entry.Event));
            }

            if (cursors[best] == shards[best].Length && shards[best].Length == size)
            {
                break;
            }
        }

        // next_cursor is always given: a consumer polls with it; it equals the request's cursor when nothing was new.
        return TypedResults.Ok(new EventFeedPage(items, Encode(next)));
    }

    /// <summary>The webhook body (<c>{type, timestamp, data}</c>) with the event's id first.</summary>
    private static JsonObject Body(ResourceEvent @event)
    {
        var body = JsonNode.Parse(WebhookSender.Body(@event))!.AsObject();
        var withId = new JsonObject { ["id"] = @event.EventId };
        foreach (var (name, value) in body.ToList())
        {
            body.Remove(name);
            withId[name] = value;
        }

        return withId;
    }

    private static string Encode(long[] positions) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(CursorPrefix + string.Join('.', positions.Select(p => p.ToString(CultureInfo.InvariantCulture)))))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecode(string cursor, long[] positions)
    {
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            if (!text.StartsWith(CursorPrefix, StringComparison.Ordinal))
            {
                return false;
            }

            var parts = text[CursorPrefix.Length..].Split('.');
            if (parts.Length != positions.Length)
            {
                return false;
            }

            for (var i = 0; i < parts.Length; i++)
            {
                if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out positions[i]))
                {
                    return false;
                }
            }

            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>A page of the event feed; <see cref="NextCursor"/> is where the next read starts.</summary>
public sealed record EventFeedPage(IReadOnlyList<JsonObject> Items, string NextCursor);

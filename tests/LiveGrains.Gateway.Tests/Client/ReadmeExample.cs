using System.Text.Json;
using LiveGrains.Client;
using Microsoft.AspNetCore.Http;

namespace LiveGrains.Gateway.Tests.Client;

/// <summary>
/// The README's client example, compiled and run by <see cref="ReadmeExampleTests"/>: the lines between the
/// <c>README</c> markers are the README's code block, character for character (less this file's indentation).
/// </summary>
public static class ReadmeExample
{
    public static async Task<Live> RunAsync(LiveGrainsClient client, string roomId, CancellationToken cancellationToken)
    {
        // README:begin client
        var room = await client.CreateRoomAsync(new CreateRoomRequest(RoomId: roomId, Title: "Main stage"));
        var live = (await client.GoLiveAsync(room.RoomId, new GoLiveRequest(StartedBy: "alice"))).Live;
        await client.JoinAsync(live.LiveId, "viewer-1");
        try
        {
            await client.ResumeAsync(live.LiveId); // it is on air, not paused
        }
        catch (LiveGrainsApiException e) when (e.Code == "invalid_transition")
        {
            Console.WriteLine($"{(int)e.Status} {e.Code}: {e.Detail}"); // and e.Title, e.Errors (field -> messages)
        }

        // A listing is a Page<T> (Items, NextCursor); ListAll... walks every page as an IAsyncEnumerable.
        await foreach (var onAir in client.ListAllLivesAsync(new LiveQuery(Status: ["live", "paused"], Order: "viewer_count")))
        {
            Console.WriteLine($"{onAir.Title}: {onAir.Stats.ViewerCount} watching");
        }

        // The live's events: its status and stats now, then every change, until the live ends.
        await foreach (var e in client.StreamEventsAsync(live.LiveId, cancellationToken))
        {
            Console.WriteLine(e.Stats is { } stats ? $"{stats.ViewerCount} watching" : $"now {e.Live?.Status}");
            if (e.Live?.Status == "ended")
            {
                break;
            }
        }
        // README:end

        return live;
    }

    public static async Task<IResult> ReceiveAsync(HttpRequest request, string webhookSecret)
    {
        // README:begin receiver
        // A webhook receiver: verify the raw body before parsing it (constant time; 5 minutes' tolerance).
        var verifier = new WebhookSignatureVerifier(webhookSecret);
        using var raw = new MemoryStream();
        await request.Body.CopyToAsync(raw);
        if (!verifier.IsValid(name => request.Headers[name], raw.ToArray()))
        {
            return Results.Unauthorized();
        }

        using var body = JsonDocument.Parse(raw.ToArray());
        Console.WriteLine($"{request.Headers["webhook-id"]}: {body.RootElement.GetProperty("type").GetString()}");
        return Results.NoContent();
        // README:end
    }
}

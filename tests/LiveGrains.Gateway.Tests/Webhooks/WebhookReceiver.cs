using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LiveGrains.Webhooks.Testing;

public enum ReceiverMode
{
    Ack,
    Fail500,
    Hang,
}

/// <summary>One request the receiver accepted as authentic. For a Gcore-format body, <see cref="Data"/> is the whole body and <see cref="Sequence"/> 0.</summary>
public sealed record ReceivedWebhook(string Id, string Type, string Resource, long Sequence, JsonElement Data, bool Acked, DateTimeOffset At);

/// <summary>
/// A webhook consumer on 127.0.0.1: verifies each request with its own implementation of the Standard Webhooks
/// spec (not the production signer), records it, and answers per <see cref="Mode"/>; stopping it makes
/// connections refused.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private WebApplication? _app;

    public WebhookReceiver(int port) => Port = port;

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    /// <summary>The <c>whsec_...</c> secret requests must be signed with; set after the webhook is created.</summary>
    public volatile string? Secret;

    public volatile ReceiverMode Mode = ReceiverMode.Ack;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public ConcurrentQueue<string> Rejected { get; } = new();

    public int Requests;

    public IReadOnlyList<ReceivedWebhook> Acked => [.. Received.Where(r => r.Acked)];

    /// <summary>Invoked for every acknowledged delivery (benchmarks measure latency here).</summary>
    public Action<ReceivedWebhook>? OnAcked { get; set; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Url.Replace("/hook", string.Empty, StringComparison.Ordinal));
        var app = builder.Build();
        app.MapPost("/hook", HandleAsync);
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref Requests);
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var id = context.Request.Headers["webhook-id"].ToString();
        var timestamp = context.Request.Headers["webhook-timestamp"].ToString();
        var signatures = context.Request.Headers["webhook-signature"].ToString();
        if (Verify(Secret, id, timestamp, body, signatures) is { } why)
        {
            Rejected.Enqueue(why);
            context.Response.StatusCode = 401;
            return;
        }

        var root = JsonDocument.Parse(body).RootElement.Clone();
        var type = root.GetProperty("type").GetString()!;
        JsonElement data;
        string resource;
        long sequence;
        if (root.TryGetProperty("message", out var message))
        {
            // Gcore's shape (format "gcore"): {type, message: {<type>: {id, ...}}}; Data is the whole body.
            data = root;
            resource = message.TryGetProperty(type, out var inner) && inner.TryGetProperty("id", out var number) ? $"{type}:{number}" : type;
            sequence = 0;
        }
        else
        {
            data = root.GetProperty("data");
            var kind = type[..type.IndexOf('.', StringComparison.Ordinal)];
            resource = data.TryGetProperty(kind + "_id", out var rid) ? kind + ":" + rid.GetString() : kind;
            sequence = data.GetProperty("sequence").GetInt64();
        }

        switch (Mode)
        {
            case ReceiverMode.Fail500:
                Received.Enqueue(new ReceivedWebhook(id, type, resource, sequence, data, false, DateTimeOffset.UtcNow));
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("receiver is failing on purpose");
                return;
            case ReceiverMode.Hang:
                Received.Enqueue(new ReceivedWebhook(id, type, resource, sequence, data, false, DateTimeOffset.UtcNow));
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }

                context.Response.StatusCode = 503;
                return;
            default:
                var received = new ReceivedWebhook(id, type, resource, sequence, data, true, DateTimeOffset.UtcNow);
                Received.Enqueue(received);
                OnAcked?.Invoke(received);
                context.Response.StatusCode = 204;
                return;
        }
    }

    /// <summary>The Standard Webhooks verification, written from the spec: null when valid, else why not.</summary>
    public static string? Verify(string? secret, string id, string timestamp, string body, string signatureHeader)
    {
        if (secret is null || !secret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            return "no secret";
        }

        if (id.Length == 0 || !long.TryParse(timestamp, out var seconds))
        {
            return "missing webhook-id or webhook-timestamp";
        }

        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
        {
            return "timestamp outside tolerance";
        }

        using var hmac = new HMACSHA256(Convert.FromBase64String(secret["whsec_".Length..]));
        var expected = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        foreach (var candidate in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = candidate.IndexOf(',', StringComparison.Ordinal);
            if (comma > 0 && candidate[..comma] == "v1"
                && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate[(comma + 1)..]), Encoding.ASCII.GetBytes(expected)))
            {
                return null;
            }
        }

        return "no matching v1 signature";
    }

    /// <summary>
    /// Order and completeness per resource: an acknowledged event n+1 never arrives before n was acknowledged
    /// (duplicates of earlier ones allowed). Returns the violations.
    /// </summary>
    public IReadOnlyList<string> OrderViolations()
    {
        var violations = new List<string>();
        var max = new Dictionary<string, long>();
        foreach (var r in Acked)
        {
            var seen = max.GetValueOrDefault(r.Resource);
            if (r.Sequence > seen + 1)
            {
                violations.Add($"{r.Resource}: got sequence {r.Sequence} after {seen}");
            }

            max[r.Resource] = Math.Max(seen, r.Sequence);
        }

        return violations;
    }

    /// <summary>The highest acknowledged sequence per resource.</summary>
    public Dictionary<string, long> MaxSequences() =>
        Acked.GroupBy(r => r.Resource).ToDictionary(g => g.Key, g => g.Max(r => r.Sequence));
}

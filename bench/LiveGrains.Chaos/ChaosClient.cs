using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LiveGrains.Chaos;

/// <summary>
/// Sends one logical operation through the gateways like a careful client: a fresh Idempotency-Key per POST, and on
/// 503, a broken connection or a client timeout the same request with the same key again (on the other gateway), with
/// a short backoff, for up to <see cref="RetryBudget"/>. Every attempt and the final answer go into the history.
/// </summary>
public sealed class ChaosClient(IReadOnlyList<string> gateways, History history, Stopwatch clock)
{
    private readonly HttpClient[] _clients = [.. gateways.Select(_ => new HttpClient(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(3),
    })
    {
        Timeout = TimeSpan.FromSeconds(15),
    })];

    private long _nextId;

    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(30);

    public double Now => clock.Elapsed.TotalSeconds;

    public Op NewOp(string kind, string? room, string? targetLive = null, bool withTitle = false, IReadOnlyList<string>? viewers = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        return new Op
        {
            Id = id,
            Kind = kind,
            Room = room,
            TargetLive = targetLive,
            Title = withTitle ? $"chaos-op-{id}" : null,
            Viewers = viewers ?? [],
        };
    }

    /// <summary>Runs <paramref name="op"/>; returns the final answer's JSON body (null when none), and records it.</summary>
    public async Task<JsonElement?> SendAsync(Op op, HttpMethod method, string path, object? body, int preferredGateway)
    {
        var key = method == HttpMethod.Post ? $"chaos-{op.Id}-{Guid.NewGuid():N}" : null;
        var json = body is null ? null : JsonSerializer.Serialize(body);
        op.Start = Now;
        var started = Stopwatch.StartNew();
        var backoff = TimeSpan.FromMilliseconds(100);
        JsonElement? result = null;
        for (var attempt = 0; ; attempt++)
        {
            var gatewayIndex = (preferredGateway + attempt) % _clients.Length;
            using var request = new HttpRequestMessage(method, gateways[gatewayIndex] + path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ChaosCluster.ApiKey);
            if (key is not null)
            {
                request.Headers.Add("Idempotency-Key", key);
            }

            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            var attemptStart = Now;
            int status;
            string? code = null;
            result = null;
            try
            {
                using var response = await _clients[gatewayIndex].SendAsync(request);
                status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                op.Answer = $"{status} {response.Content.Headers.ContentType?.MediaType ?? "(no content type)"}"
                    + (response.Headers.Contains("Idempotent-Replayed") ? " replayed" : "")
                    + $" {(text.Length > 300 ? text[..300] : text)}";
                if (text.Length > 0 && (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) ?? false))
                {
                    using var doc = JsonDocument.Parse(text);
                    result = doc.RootElement.Clone();
                    if (status >= 400 && result.Value.ValueKind == JsonValueKind.Object && result.Value.TryGetProperty("code", out var c))
                    {
                        code = c.GetString();
                    }
                }
            }
            catch (HttpRequestException)
            {
                status = 0;
                code = "connection";
            }
            catch (TaskCanceledException)
            {
                status = 0;
                code = "client_timeout";
            }
            catch (JsonException)
            {
                status = 0;
                code = "bad_json";
            }

            history.Attempts.Enqueue(new Attempt(op.Id, op.Room, attemptStart, Now, status, code, $"gateway{gatewayIndex}"));
            op.Attempts = attempt + 1;
            op.Status = status;
            op.Code = code;
            if (status == 0 || status >= 500 || status is >= 200 and < 300)
            {
                op.MayHaveApplied = true;
            }

            var retry = status is 0 or 503 || code == "idempotency_in_progress";
            if (!retry || started.Elapsed >= RetryBudget)
            {
                break;
            }

            await Task.Delay(backoff);
            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 1000));
        }

        op.End = Now;
        history.Ops.Enqueue(op);
        return result;
    }

    /// <summary>A GET for the final check: retried until it answers 200 or the budget is spent.</summary>
    public async Task<JsonElement> GetCheckedAsync(string path)
    {
        var op = NewOp("check", null);
        var body = await SendAsync(op, HttpMethod.Get, path, null, 0);
        if (op.Status != 200 || body is null)
        {
            throw new InvalidOperationException($"GET {path} answered {op.Status} {op.Code} after {op.Attempts} attempts.");
        }

        return body.Value;
    }

    public static string? Str(JsonElement? element, params string[] path)
    {
        if (element is not { } e)
        {
            return null;
        }

        foreach (var name in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out e))
            {
                return null;
            }
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString() : e.ValueKind == JsonValueKind.Number ? e.GetRawText() : null;
    }
}

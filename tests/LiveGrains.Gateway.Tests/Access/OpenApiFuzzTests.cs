using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Xunit.Abstractions;

namespace LiveGrains.Gateway.Tests.Access;

/// <summary>The fuzzed gateway: its own cluster, rate limits off (20,000 requests from one key would be throttled).</summary>
public sealed class FuzzGateway : IDisposable
{
    public FuzzGateway() => Factory.Settings["RateLimits:Enabled"] = "false";

    public GatewayFactory Factory { get; } = new();

    public void Dispose() => Factory.Dispose();
}

/// <summary>
/// Property: whatever a client sends to any operation of the live OpenAPI document (wrong types, huge and unicode
/// strings, broken JSON, unknown fields, odd ids, missing or forged credentials), the gateway answers below 500,
/// every error is <c>application/problem+json</c> without internals, and it still works correctly afterwards.
/// </summary>
public sealed class OpenApiFuzzTests(FuzzGateway gateway, ITestOutputHelper output) : IClassFixture<FuzzGateway>
{
    private const int Requests = 20_000;

    private sealed record Operation(string Method, string Path, string[] PathParameters, string[] QueryParameters, string[] BodyProperties, bool HasBody);

    /// <summary>One generated request, before it is bound to an operation's shape.</summary>
    private sealed record Sample(int Operation, int Auth, string[] Ids, string[] Values, int BodyKind, string Unknown, int Query, string IdempotencyKey);

    [Fact]
    public async Task TwentyThousandGeneratedRequestsGetNo5xxAndOnlyProblemDetailsErrors()
    {
        var factory = gateway.Factory;
        using var admin = factory.CreateClient(GatewayFactory.AcmeKey);
        var operations = await OperationsAsync(factory.CreateClient());
        Assert.True(operations.Count >= 30, $"only {operations.Count} operations in the OpenAPI document");

        // Real resources, so that some generated ids reach real grains and real state machines. The signing key's id is
        // not generated (a DELETE would revoke it and turn the rest of the run's key and token requests into 401s);
        // the read key's is.
        var roomId = HttpTestKit.NewRoomId();
        await (await admin.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","host_id":"alice"}""")).OkJsonAsync(HttpStatusCode.Created);
        var liveId = (await admin.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString()!;
        var streamId = (await (await admin.PostAsync("/v1/streams", $$"""{"room_id":"{{roomId}}"}""")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("stream_id").GetString()!;
        var key = await admin.CreateKeyAsync("write");
        var read = await admin.CreateKeyAsync("read");
        string[] credentials =
        [
            GatewayFactory.AcmeKey, key.Secret, read.Secret,
            key.Token("alice", new { room = roomId, host = true }), key.Token("v1", new { live = liveId, viewer = true }),
            key.Secret[..^3] + "xyz", "lgsk_" + new string('A', 26) + "_forged", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
            key.Token("alice", new { room = roomId, host = true }, TimeSpan.FromMinutes(-10)), "", "not a key", new string('k', 9000),
        ];

        var unicode = Gen.Char["\u00e9\u00fc\u4e2d\u0627\u200b\u202e\ud83c\udfa5\u0000\u001f\"\\/%?#&=+ .-_<>{}[]"];
        var odd = Gen.Frequency<string>(
            Weight(5, Gen.OneOf(roomId, liveId, streamId, read.KeyId, "key_" + new string('0', 26), "lv_" + new string('0', 26) + "." + roomId, "st_x", "key_x", "..", ".", "-", "0", "-1", "null", "true", "%00", "a/b")),
            Weight(2, Gen.String[1, 20]),
            Weight(2, unicode.Array[1, 40].Select(c => new string(c))),
            Weight(1, Gen.Int[65, 5000].Select(n => new string('r', n))));
        var value = Gen.OneOf<string>(
            Gen.OneOf("null", "true", "false", "0", "-1", "1e400", "99999999999999999999", "3.5", "[]", "{}", "[null]", "{\"a\":{\"b\":[1,{}]}}", "\"\"",
                "\"takeover\"", "\"reject\"", "\"admin\"", "\"http://127.0.0.1:9/x\"", "\"2026-01-01T00:00:00Z\"", "\"not a date\""),
            odd.Select(s => JsonSerializer.Serialize(s)),
            Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            odd.Array[0, 4].Select(a => JsonSerializer.Serialize(a)));
        var sample = Gen.Select(
            Gen.Int[0, operations.Count - 1], Gen.Frequency(Weight(8, Gen.Const(0)), Weight(6, Gen.Int[1, 4]), Weight(3, Gen.Int[5, credentials.Length - 1])), odd.Array[3], value.Array[8], Gen.Int[0, 9], Gen.String[1, 12],
            Gen.Int[0, 3], Gen.OneOf<string>(Gen.Const(""), Gen.String[0, 300]),
            (o, a, i, v, b, u, q, k) => new Sample(o, a, i, v, b, u, q, k));

        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var unauthorized = new ConcurrentDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        await Check.SampleAsync(sample, async s =>
        {
            var op = operations[s.Operation];
            using var request = Build(op, s, credentials[s.Auth]);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            using var client = factory.CreateClient();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                unauthorized.AddOrUpdate(s.Auth, 1, (_, n) => n + 1);
            }

            var type = response.Content.Headers.ContentType?.MediaType;
            if (type == "text/event-stream")
            {
                return;
            }

            var body = await response.Content.ReadAsStringAsync(cancel.Token);
            // Media-server callbacks answer in the media server's protocol (nginx-rtmp reads only the status), not problem details.
            var mediaServerHook = op.Path.StartsWith("/v1/ingest-hooks/", StringComparison.Ordinal);

            // The seed platforms' endpoints answer errors in their platform's JSON shape (Apis/Compat); a generated path
            // that matches none of them (an empty id segment) is the framework's 404/405, in problem details.
            var compat = op.Path.StartsWith("/compat/", StringComparison.Ordinal) && type == "application/json";
            var problem = (int)response.StatusCode >= 500 ? "a 5xx"
                : (int)response.StatusCode >= 400 && type != "application/problem+json" && !compat && !mediaServerHook ? $"an error as {type ?? "nothing"}"
                : Leaks(body) is { } leak ? $"'{leak}' in the body" : null;
            if (problem is not null)
            {
                failures.Enqueue($"{op.Method} {request.RequestUri} -> {(int)response.StatusCode} {problem}: {Clip(body)}");
                throw new InvalidOperationException(failures.Last());
            }
        }, iter: Requests, threads: 8, print: s => $"{operations[s.Operation].Method} {operations[s.Operation].Path} auth#{s.Auth} body#{s.BodyKind}");

        output.WriteLine($"{Requests} requests in {clock.Elapsed.TotalSeconds:F0} s: " + string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key} x{p.Value}")));
        output.WriteLine("401 by credential: " + string.Join(", ", unauthorized.OrderBy(p => p.Key).Select(p => $"#{p.Key} x{p.Value}")));
        Assert.Empty(failures);
        Assert.True(statuses.Keys.Count(s => s is >= 200 and < 300) > 0 && statuses.ContainsKey(400) && statuses.ContainsKey(401) && statuses.ContainsKey(404),
            "the generator should reach successes, validation, authentication and lookups");

        // Still answers correctly: a new room goes live and ends as the contract says.
        var after = await admin.CreateRoomAsync();
        var live = await admin.GoLiveAsync(after);
        var afterLive = live.GetProperty("live").GetProperty("live_id").GetString()!;
        Assert.Equal("live", live.GetProperty("live").GetProperty("status").GetString());
        Assert.Equal("ended", (await (await admin.PostAsync($"/v1/lives/{afterLive}/end", "{}")).OkJsonAsync()).GetProperty("status").GetString());
        await (await factory.CreateClient().GetAsync($"/v1/rooms/{after}")).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    private static HttpRequestMessage Build(Operation op, Sample s, string credential)
    {
        var path = op.Path;
        for (var i = 0; i < op.PathParameters.Length; i++)
        {
            // NUL is the one character the test host refuses to put in a path (Kestrel answers 400 before the app).
            var id = s.Ids[i % s.Ids.Length].Replace("\0", "", StringComparison.Ordinal);
            path = path.Replace("{" + op.PathParameters[i] + "}", Uri.EscapeDataString(id.Length == 0 ? "x" : id), StringComparison.Ordinal);
        }

        if (op.QueryParameters.Length > 0 && s.Query > 0)
        {
            var query = op.QueryParameters.Take(s.Query).Select((name, i) => name + "=" + Uri.EscapeDataString(s.Values[i].Trim('"').Replace("\0", "", StringComparison.Ordinal)));
            path += "?" + string.Join("&", query);
        }

        var request = new HttpRequestMessage(new HttpMethod(op.Method), path);
        if (credential.Length > 0)
        {
            request.Headers.TryAddWithoutValidation("Authorization", s.BodyKind == 9 ? "Basic " + credential : "Bearer " + credential);
        }

        if (s.IdempotencyKey.Length > 0 && !s.IdempotencyKey.Any(char.IsControl))
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", s.IdempotencyKey);
        }

        if (op.Method is "GET" or "DELETE" && s.BodyKind < 8)
        {
            return request;
        }

        var body = s.BodyKind switch
        {
            0 or 1 or 2 or 3 => JsonObject(op.BodyProperties, s.Values, unknown: null),
            4 => JsonObject(op.BodyProperties, s.Values, unknown: s.Unknown),
            5 => "{\"" + (op.BodyProperties.FirstOrDefault() ?? "x") + "\":",
            6 => s.Values[0] + s.Values[1],
            7 => "",
            _ => s.Values[0],
        };
        var mediaType = s.BodyKind == 8 ? "text/plain" : "application/json";
        request.Content = new StringContent(body, Encoding.UTF8);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return request;
    }

    private static string JsonObject(string[] properties, string[] values, string? unknown)
    {
        var fields = properties.Select((p, i) => $"\"{p}\":{values[i % values.Length]}");
        if (unknown is not null)
        {
            fields = fields.Append($"{JsonSerializer.Serialize(unknown)}:1");
        }

        return "{" + string.Join(",", fields) + "}";
    }

    private static (int, IGen<T>) Weight<T>(int weight, Gen<T> gen) => (weight, gen);

    private static string? Leaks(string body) =>
        new[] { "   at ", "Exception", "LiveGrains.Grains", "Orleans.", "stackTrace", ".cs:line" }.FirstOrDefault(l => body.Contains(l, StringComparison.Ordinal));

    private static string Clip(string body) => body.Length <= 300 ? body : body[..300] + "...";

    /// <summary>Every operation of the served OpenAPI document, with its parameters and JSON body properties.</summary>
    private static async Task<List<Operation>> OperationsAsync(HttpClient client)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var root = document.RootElement;
        var schemas = root.TryGetProperty("components", out var components) && components.TryGetProperty("schemas", out var s) ? s : default;
        var operations = new List<Operation>();
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                if (method.Name == "parameters")
                {
                    continue;
                }

                var parameters = method.Value.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
                string[] Named(string where) => [.. parameters.Where(x => x.GetProperty("in").GetString() == where).Select(x => x.GetProperty("name").GetString()!)];
                var properties = Array.Empty<string>();
                var hasBody = method.Value.TryGetProperty("requestBody", out var requestBody);
                if (hasBody && requestBody.TryGetProperty("content", out var content))
                {
                    foreach (var media in content.EnumerateObject())
                    {
                        properties = PropertiesOf(media.Value.GetProperty("schema"), schemas);
                        break;
                    }
                }

                operations.Add(new Operation(method.Name.ToUpperInvariant(), path.Name, Named("path"), Named("query"), properties, hasBody));
            }
        }

        return operations;
    }

    private static string[] PropertiesOf(JsonElement schema, JsonElement schemas)
    {
        if (schema.TryGetProperty("$ref", out var reference) && schemas.ValueKind == JsonValueKind.Object
            && schemas.TryGetProperty(reference.GetString()!.Split('/')[^1], out var resolved))
        {
            schema = resolved;
        }

        foreach (var combinator in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out var options))
            {
                return [.. options.EnumerateArray().SelectMany(o => PropertiesOf(o, schemas)).Distinct()];
            }
        }

        return schema.TryGetProperty("properties", out var properties) ? [.. properties.EnumerateObject().Select(p => p.Name)] : [];
    }
}

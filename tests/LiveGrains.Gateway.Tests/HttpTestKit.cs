using System.Net;
using System.Text;
using System.Text.Json;

namespace LiveGrains.Gateway.Tests;

/// <summary>Raw-JSON requests and problem-details assertions for the HTTP tests.</summary>
internal static class HttpTestKit
{
    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string url, string? json = null, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostAsync(this HttpClient client, string url, string? json = null, string? idempotencyKey = null) =>
        client.SendAsync(HttpMethod.Post, url, json, idempotencyKey);

    public static async Task<JsonElement> OkJsonAsync(this HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected} but got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts an RFC 9457 problem with LiveGrains' code, and that nothing internal leaks.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} {code} but got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        AssertNoInternals(body);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.True(problem.TryGetProperty("detail", out _), "problem has no detail");
        return problem;
    }

    /// <summary>A 400 validation_failed whose <c>errors</c> names <paramref name="field"/>.</summary>
    public static async Task<JsonElement> ValidationProblemAsync(this HttpResponseMessage response, string field)
    {
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"errors has no '{field}': {errors}");
        Assert.True(messages.GetArrayLength() > 0);
        return problem;
    }

    public static void AssertNoInternals(string body)
    {
        foreach (var leak in new[] { "   at ", "Exception", "LiveGrains.Grains", "Orleans.", "stackTrace", "traceId", ".cs:line" })
        {
            Assert.DoesNotContain(leak, body, StringComparison.Ordinal);
        }
    }

    public static string NewRoomId() => Http.Unique("room");

    /// <summary>Creates a room for the client's tenant and returns its id.</summary>
    public static async Task<string> CreateRoomAsync(this HttpClient client, string policy = "takeover")
    {
        var roomId = NewRoomId();
        (await client.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}","takeover_policy":"{{policy}}"}""")).Dispose();
        return roomId;
    }

    public static async Task<JsonElement> GoLiveAsync(this HttpClient client, string roomId, string? startedBy = null)
    {
        var body = startedBy is null ? "{}" : $$"""{"started_by":"{{startedBy}}"}""";
        return await (await client.PostAsync($"/v1/rooms/{roomId}/go-live", body)).OkJsonAsync(HttpStatusCode.Created);
    }
}

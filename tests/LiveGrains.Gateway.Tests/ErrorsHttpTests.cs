using System.Net;

namespace LiveGrains.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ErrorsHttpTests(GatewayFactory factory)
{
    public static TheoryData<string> BadRoomIds() =>
    [
        new string('a', 65),
        "has%20space",
        "emoji%F0%9F%98%80",
        "semi%3Bcolon",
        "star*",
        "quote%22",
    ];

    [Theory]
    [MemberData(nameof(BadRoomIds))]
    public async Task ABadRoomIdInThePathIsAValidationErrorOnEveryRoomRoute(string roomId)
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);

        await (await client.GetAsync($"/v1/rooms/{roomId}")).ValidationProblemAsync("room_id");
        await (await client.SendAsync(HttpMethod.Patch, $"/v1/rooms/{roomId}", "{}")).ValidationProblemAsync("room_id");
        await (await client.GetAsync($"/v1/rooms/{roomId}/lives")).ValidationProblemAsync("room_id");
        await (await client.PostAsync($"/v1/rooms/{roomId}/go-live", "{}")).ValidationProblemAsync("room_id");
        await (await client.PostAsync($"/v1/rooms/{roomId}/lives", "{}")).ValidationProblemAsync("room_id");
    }

    [Theory]
    [InlineData("""{"room_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""", "room_id")]
    [InlineData("""{"room_id":"bad id"}""", "room_id")]
    [InlineData("""{"room_id":"bad/id"}""", "room_id")]
    [InlineData("""{"room_id":""}""", "room_id")]
    [InlineData("""{"host_id":"no spaces allowed"}""", "host_id")]
    [InlineData("""{"reconnect_window_seconds":-1}""", "reconnect_window_seconds")]
    [InlineData("""{"reconnect_window_seconds":86401}""", "reconnect_window_seconds")]
    [InlineData("""{"reconnect_window_seconds":"sixty"}""", "reconnect_window_seconds")]
    [InlineData("""{"reconnect_window_seconds":1.5}""", "reconnect_window_seconds")]
    [InlineData("""{"takeover_policy":"sometimes"}""", "takeover_policy")]
    [InlineData("""{"takeover_policy":1}""", "takeover_policy")]
    [InlineData("""{"title":42}""", "title")]
    [InlineData("""{"unexpected":true}""", "unexpected")]
    public async Task AnInvalidCreateRoomBodyIsAValidationErrorNamingTheField(string body, string field)
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);

        await (await client.PostAsync("/v1/rooms", body)).ValidationProblemAsync(field);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("\"room\"")]
    public async Task AnUnreadableBodyIsAValidationErrorNotAServerError(string body)
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);

        var problem = await (await client.PostAsync("/v1/rooms", body)).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        Assert.True(problem.GetProperty("errors").EnumerateObject().Any());
    }

    [Fact]
    public async Task ATitleThatIsTooLongIsRefusedOnGoLive()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();

        await (await client.PostAsync($"/v1/rooms/{roomId}/go-live", $$"""{"title":"{{new string('t', 201)}}"}""")).ValidationProblemAsync("title");
        await (await client.PostAsync($"/v1/rooms/{roomId}/go-live", """{"started_by":"x","extra":1}""")).ValidationProblemAsync("extra");
        await (await client.PostAsync($"/v1/rooms/{roomId}/lives", """{"scheduled_start_time":"tomorrow"}""")).ValidationProblemAsync("scheduled_start_time");
        Assert.Equal(0, (await (await client.GetAsync($"/v1/rooms/{roomId}/lives")).OkJsonAsync()).GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("-5")]
    public async Task AnOutOfRangeLimitIsAValidationError(string limit)
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();

        await (await client.GetAsync($"/v1/rooms/{roomId}/lives?limit={limit}")).ValidationProblemAsync("limit");
    }

    [Fact]
    public async Task ANonNumericLimitIsABadRequestNotAServerError()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync();

        await (await client.GetAsync($"/v1/rooms/{roomId}/lives?limit=ten")).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("rm_0123456789abcdefghjkmnpqrs")]
    [InlineData("lv_has%20space")]
    [InlineData("lv_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task ABadLiveIdIsAValidationError(string liveId)
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);

        await (await client.GetAsync($"/v1/lives/{liveId}")).ValidationProblemAsync("live_id");
        await (await client.PostAsync($"/v1/lives/{liveId}/end", "{}")).ValidationProblemAsync("live_id");
    }

    [Fact]
    public async Task AnUnknownButWellFormedLiveIdIsNotFound()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);

        // A live id names its room: neither a live of a room that does not exist nor an unknown live of one is found.
        await (await client.GetAsync("/v1/lives/lv_0123456789abcdefghjkmnpqrs.no-such-room")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.PostAsync("/v1/lives/lv_0123456789abcdefghjkmnpqrs.no-such-room/start", "{}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        var roomId = HttpTestKit.NewRoomId();
        (await client.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}"}""")).EnsureSuccessStatusCode();
        await (await client.GetAsync($"/v1/lives/lv_0123456789abcdefghjkmnpqrs.{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.PostAsync($"/v1/lives/lv_0123456789abcdefghjkmnpqrs.{roomId}/end", "{}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");

        // Without its room it is not a live id at all.
        await (await client.GetAsync("/v1/lives/lv_0123456789abcdefghjkmnpqrs")).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task ABodyOverTheLimitIsPayloadTooLarge()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = HttpTestKit.NewRoomId();
        var huge = $$"""{"room_id":"{{roomId}}","title":"{{new string('x', 70_000)}}"}""";

        await (await client.PostAsync("/v1/rooms", huge)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        await (await client.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task EveryLifecycleErrorCodeIsReachableWithItsStatus()
    {
        using var client = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = await client.CreateRoomAsync("reject");

        // room_exists
        await (await client.PostAsync("/v1/rooms", $$"""{"room_id":"{{roomId}}"}""")).ProblemAsync(HttpStatusCode.Conflict, "room_exists");

        // live_already_active
        var liveId = (await client.GoLiveAsync(roomId)).GetProperty("live").GetProperty("live_id").GetString();
        await (await client.PostAsync($"/v1/rooms/{roomId}/go-live", "{}")).ProblemAsync(HttpStatusCode.Conflict, "live_already_active");
        var scheduledId = (await (await client.PostAsync($"/v1/rooms/{roomId}/lives", "{}")).OkJsonAsync(HttpStatusCode.Created)).GetProperty("live_id").GetString();
        await (await client.PostAsync($"/v1/lives/{scheduledId}/start", "{}")).ProblemAsync(HttpStatusCode.Conflict, "live_already_active");

        // invalid_transition
        await (await client.PostAsync($"/v1/lives/{liveId}/resume", "{}")).ProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        await (await client.PostAsync($"/v1/lives/{liveId}/ready", "{}")).ProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        await (await client.PostAsync($"/v1/lives/{scheduledId}/pause", "{}")).ProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        await (await client.PostAsync($"/v1/lives/{liveId}/end", "{}")).OkJsonAsync();
        await (await client.PostAsync($"/v1/lives/{liveId}/end", "{}")).ProblemAsync(HttpStatusCode.Conflict, "invalid_transition");
        await (await client.PostAsync($"/v1/lives/{liveId}/start", "{}")).ProblemAsync(HttpStatusCode.Conflict, "invalid_transition");

        // not_found
        await (await client.GetAsync($"/v1/rooms/{HttpTestKit.NewRoomId()}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.PostAsync($"/v1/rooms/{HttpTestKit.NewRoomId()}/go-live", "{}")).ProblemAsync(HttpStatusCode.NotFound, "not_found");

        // validation_failed and unauthorized
        await (await client.PostAsync("/v1/rooms", """{"takeover_policy":"never"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        using var anonymous = factory.CreateClient();
        await (await anonymous.GetAsync($"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");

        // An unknown route and a wrong method are problems too.
        await (await client.GetAsync("/v1/nothing-here")).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.SendAsync(HttpMethod.Put, $"/v1/rooms/{roomId}")).ProblemAsync(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }
}

using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using LiveGrains.Grains.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

public sealed record CreateWebhookRequest(string? Url = null, IReadOnlyList<string>? Events = null, string? Description = null, string? Format = null);

public static class WebhooksApi
{
    public const int MaxDescriptionLength = 500;
    public const string WebhookIdPrefix = "wh_";
    public const string EventIdPrefix = "evt_";

    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/webhooks").WithTags("Webhooks").RequireAuthorization();
        api.MapPost("/", CreateWebhookAsync).WithName("CreateWebhook")
            .WithSummary("Registers an endpoint for signed event deliveries; the answer is the only one (besides rotation) that shows the secret.");
        api.MapGet("/", ListWebhooksAsync).WithName("ListWebhooks").WithSummary("The tenant's webhook endpoints (secrets not shown).");
        api.MapGet("/{webhookId}", GetWebhookAsync).WithName("GetWebhook").WithSummary("Gets a webhook endpoint (secret not shown).");
        api.MapDelete("/{webhookId}", DeleteWebhookAsync).WithName("DeleteWebhook").WithSummary("Deletes an endpoint and discards its queued deliveries.");
        api.MapPost("/{webhookId}/enable", EnableWebhookAsync).WithName("EnableWebhook").WithSummary("Resumes deliveries and clears the failing mark.");
        api.MapPost("/{webhookId}/disable", DisableWebhookAsync).WithName("DisableWebhook")
            .WithSummary("Stops deliveries; events recorded while disabled are not queued for this endpoint.");
        api.MapPost("/{webhookId}/rotate-secret", RotateSecretAsync).WithName("RotateWebhookSecret").WithSummary("Replaces the signing secret and shows the new one.");
        api.MapPost("/{webhookId}/test", TestWebhookAsync).WithName("TestWebhook").WithSummary("Sends a signed 'webhook.test' event now and returns the outcome.");
        api.MapGet("/{webhookId}/deliveries", ListDeliveriesAsync).WithName("ListWebhookDeliveries")
            .WithSummary("The endpoint's delivery log, newest first, with cursor paging.");
        api.MapPost("/{webhookId}/deliveries/{eventId}/redeliver", RedeliverAsync).WithName("RedeliverWebhookEvent")
            .WithSummary("Sends a delivered event again now, or retries a queued one now.");
        return api;
    }

    public static async Task<Results<Created<WebhookDto>, ProblemHttpResult>> CreateWebhookAsync(
        CreateWebhookRequest? body, ClaimsPrincipal user, IGrainFactory grains, IConfiguration configuration, CancellationToken cancellationToken)
    {
        body ??= new CreateWebhookRequest();
        var check = new RequestValidator().Text("description", body.Description, MaxDescriptionLength);
        if (WebhookUrlPolicy.CheckSyntax(body.Url, out var uri) is { } invalidUrl)
        {
            check.Add("url", invalidUrl);
        }
        else if (!AllowPrivateNetworks(configuration) && await RefuseAddressAsync(uri!, cancellationToken) is { } refused)
        {
            check.Add("url", refused);
        }

        if (body.Events is { } events)
        {
            if (events.Count == 0)
            {
                check.Add("events", "Omit to receive every event type, or list at least one.");
            }

            foreach (var type in events.Where(t => !EventTypes.All.Contains(t, StringComparer.Ordinal)).Distinct())
            {
                check.Add("events", $"Unknown event type '{Clip(type)}'. Known: {string.Join(", ", EventTypes.All)}.");
            }
        }

        // A string, not the enum, so an unknown value is a field error rather than an unreadable body.
        var format = body.Format switch
        {
            null or "standard" => WebhookFormat.Standard,
            "gcore" => WebhookFormat.Gcore,
            _ => (WebhookFormat?)null,
        };
        if (format is null)
        {
            check.Add("format", $"Unknown format '{Clip(body.Format)}'. Known: standard, gcore.");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Registry(grains, user).CreateAsync(new CreateWebhookCommand(uri!.AbsoluteUri, body.Events, body.Description, format!.Value));
        return result.IsSuccess ? TypedResults.Created($"/v1/webhooks/{result.Value!.WebhookId}", result.Value) : Problems.From(result.Error!);
    }

    public static async Task<Ok<ListResponse<WebhookDto>>> ListWebhooksAsync(ClaimsPrincipal user, IGrainFactory grains) =>
        TypedResults.Ok(new ListResponse<WebhookDto>(await Registry(grains, user).ListAsync(), null));

    public static Task<Results<Ok<WebhookDto>, ProblemHttpResult>> GetWebhookAsync(string webhookId, ClaimsPrincipal user, IGrainFactory grains) =>
        WithWebhookIdAsync(webhookId, () => Registry(grains, user).GetAsync(webhookId));

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteWebhookAsync(string webhookId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (InvalidWebhookId(webhookId) is { } invalid)
        {
            return invalid;
        }

        var result = await Registry(grains, user).DeleteAsync(webhookId);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    public static Task<Results<Ok<WebhookDto>, ProblemHttpResult>> EnableWebhookAsync(string webhookId, ClaimsPrincipal user, IGrainFactory grains) =>
        SetEnabledAsync(webhookId, true, user, grains);

    public static Task<Results<Ok<WebhookDto>, ProblemHttpResult>> DisableWebhookAsync(string webhookId, ClaimsPrincipal user, IGrainFactory grains) =>
        SetEnabledAsync(webhookId, false, user, grains);

    public static Task<Results<Ok<WebhookDto>, ProblemHttpResult>> RotateSecretAsync(string webhookId, ClaimsPrincipal user, IGrainFactory grains) =>
        WithWebhookIdAsync(webhookId, () => Registry(grains, user).RotateSecretAsync(webhookId));

    public static Task<Results<Ok<WebhookDeliveryDto>, ProblemHttpResult>> TestWebhookAsync(string webhookId, ClaimsPrincipal user, IGrainFactory grains) =>
        WithWebhookIdAsync(webhookId, () => DeliveryLog(grains, user, webhookId).TestAsync());

    public static async Task<Results<Ok<WebhookDeliveryPage>, ProblemHttpResult>> ListDeliveriesAsync(
        string webhookId, ClaimsPrincipal user, IGrainFactory grains, int? limit = null, string? cursor = null)
    {
        var check = new RequestValidator()
            .ServerId("webhook_id", webhookId, WebhookIdPrefix)
            .Range("limit", limit, 1, RoomsApi.MaxPageSize)
            .Text("cursor", cursor, 32);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        return RoomsApi.Ok(await DeliveryLog(grains, user, webhookId).ListAsync(limit ?? RoomsApi.DefaultPageSize, cursor));
    }

    public static async Task<Results<Accepted<WebhookDeliveryDto>, ProblemHttpResult>> RedeliverAsync(
        string webhookId, string eventId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator()
            .ServerId("webhook_id", webhookId, WebhookIdPrefix)
            .ServerId("event_id", eventId, EventIdPrefix);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await DeliveryLog(grains, user, webhookId).RedeliverAsync(eventId);
        return result.IsSuccess
            ? TypedResults.Accepted($"/v1/webhooks/{webhookId}/deliveries", result.Value!)
            : Problems.From(result.Error!);
    }

    private static Task<Results<Ok<WebhookDto>, ProblemHttpResult>> SetEnabledAsync(string webhookId, bool enabled, ClaimsPrincipal user, IGrainFactory grains) =>
        WithWebhookIdAsync(webhookId, () => Registry(grains, user).SetEnabledAsync(webhookId, enabled));

    /// <summary>Registration-time SSRF check (delivery re-checks every connection's resolved address).</summary>
    private static async Task<string?> RefuseAddressAsync(Uri uri, CancellationToken cancellationToken)
    {
        const string message = "Must not point at a loopback, private, link-local or otherwise non-public address.";
        if (WebhookUrlPolicy.LiteralAddress(uri.Host) is { } literal)
        {
            return WebhookUrlPolicy.IsPublic(literal) ? null : message;
        }

        if (uri.IsLoopback || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return message;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, timeout.Token);
            return addresses.Length == 0 ? "The host does not resolve." : addresses.All(WebhookUrlPolicy.IsPublic) ? null : message;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ArgumentException)
        {
            return "The host does not resolve.";
        }
    }

    private static async Task<Results<Ok<T>, ProblemHttpResult>> WithWebhookIdAsync<T>(string webhookId, Func<Task<Result<T>>> call) =>
        InvalidWebhookId(webhookId) is { } invalid ? invalid : RoomsApi.Ok(await call());

    /// <summary>From configuration, not options: a client-mode gateway hosts no silo services.</summary>
    private static bool AllowPrivateNetworks(IConfiguration configuration) =>
        configuration.GetValue($"{WebhookOptions.SectionName}:{nameof(WebhookOptions.AllowPrivateNetworks)}", false);

    private static ProblemHttpResult? InvalidWebhookId(string webhookId)
    {
        var check = new RequestValidator().ServerId("webhook_id", webhookId, WebhookIdPrefix);
        return check.IsValid ? null : check.Problem;
    }

    private static string Clip(string? text) => text is null ? "null" : text.Length <= 40 ? text : text[..40] + "…";

    private static IWebhookRegistryGrain Registry(IGrainFactory grains, ClaimsPrincipal user) =>
        grains.Get<IWebhookRegistryGrain>(user.Tenant());

    private static IWebhookDeliveryLogGrain DeliveryLog(IGrainFactory grains, ClaimsPrincipal user, string webhookId) =>
        grains.Get<IWebhookDeliveryLogGrain>(TenantKey.Compose(user.Tenant(), webhookId));
}

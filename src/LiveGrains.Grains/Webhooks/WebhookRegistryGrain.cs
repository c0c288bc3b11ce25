using LiveGrains.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Webhooks;

[GenerateSerializer, Alias("LiveGrains.WebhookEndpointState")]
public sealed class WebhookEndpointState
{
    [Id(0)] public string WebhookId { get; set; } = "";
    [Id(1)] public string Url { get; set; } = "";
    [Id(2)] public List<string>? Events { get; set; }
    [Id(3)] public bool Enabled { get; set; } = true;
    [Id(4)] public string Secret { get; set; } = "";
    [Id(5)] public string? Description { get; set; }
    [Id(6)] public DateTimeOffset CreatedAt { get; set; }
    [Id(7)] public bool Failing { get; set; }
    [Id(90)] public WebhookFormat Format { get; set; }
}

[GenerateSerializer, Alias("LiveGrains.WebhookRegistryState")]
public sealed class WebhookRegistryState
{
    [Id(0)] public Dictionary<string, WebhookEndpointState> Endpoints { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A tenant's endpoints. Small, read on every event (interleaved, from a cached snapshot).</summary>
public sealed class WebhookRegistryGrain(
    [PersistentState("webhooks", LiveGrainsStorage.State)] IPersistentState<WebhookRegistryState> state,
    IOptions<WebhookOptions> options,
    LiveGrainsClock clock,
    ILogger<WebhookRegistryGrain> logger) : Grain, IWebhookRegistryGrain
{
    private IReadOnlyList<WebhookTarget>? _targets;

    private Dictionary<string, WebhookEndpointState> Endpoints => state.State.Endpoints;

    public async Task<Result<WebhookDto>> CreateAsync(CreateWebhookCommand command)
    {
        if (Endpoints.Count >= options.Value.MaxEndpointsPerTenant)
        {
            return new DomainError(DomainErrorCode.ValidationFailed, $"At most {options.Value.MaxEndpointsPerTenant} webhooks per tenant.", "url");
        }

        var now = clock.UtcNow;
        var endpoint = new WebhookEndpointState
        {
            WebhookId = Ids.New("wh_", now),
            Url = command.Url,
            Events = command.Events is null ? null : [.. command.Events.Distinct(StringComparer.Ordinal)],
            Secret = WebhookSigner.NewSecret(),
            Description = command.Description,
            CreatedAt = now,
            Format = command.Format,
        };
        Endpoints[endpoint.WebhookId] = endpoint;
        await SaveAsync();
        return ToDto(endpoint, withSecret: true);
    }

    public Task<Result<WebhookDto>> GetAsync(string webhookId) =>
        Task.FromResult<Result<WebhookDto>>(Endpoints.TryGetValue(webhookId, out var e) ? ToDto(e, withSecret: false) : NotFound());

    public Task<IReadOnlyList<WebhookDto>> ListAsync() =>
        Task.FromResult<IReadOnlyList<WebhookDto>>([.. Endpoints.Values.OrderBy(e => e.CreatedAt).ThenBy(e => e.WebhookId).Select(e => ToDto(e, false))]);

    public async Task<Result<bool>> DeleteAsync(string webhookId)
    {
        if (!Endpoints.Remove(webhookId))
        {
            return NotFound();
        }

        await SaveAsync();
        await GrainFactory.Get<IWebhookDeliveryLogGrain>(TenantKey.Compose(this.GetPrimaryKeyString(), webhookId)).ClearAsync();
        return true;
    }

    public async Task<Result<WebhookDto>> SetEnabledAsync(string webhookId, bool enabled)
    {
        if (!Endpoints.TryGetValue(webhookId, out var endpoint))
        {
            return NotFound();
        }

        if (endpoint.Enabled != enabled || (enabled && endpoint.Failing))
        {
            endpoint.Enabled = enabled;
            endpoint.Failing = enabled ? false : endpoint.Failing;
            await SaveAsync();
        }

        return ToDto(endpoint, withSecret: false);
    }

    public async Task<Result<WebhookDto>> RotateSecretAsync(string webhookId)
    {
        if (!Endpoints.TryGetValue(webhookId, out var endpoint))
        {
            return NotFound();
        }

        endpoint.Secret = WebhookSigner.NewSecret();
        await SaveAsync();
        return ToDto(endpoint, withSecret: true);
    }

    public Task<IReadOnlyList<WebhookTarget>> GetTargetsAsync() =>
        Task.FromResult(_targets ??= [.. Endpoints.Values.Select(e => new WebhookTarget(e.WebhookId, e.Url, e.Secret, e.Events, e.Enabled, e.Format))]);

    public async Task SetFailingAsync(string webhookId, bool failing)
    {
        if (Endpoints.TryGetValue(webhookId, out var endpoint) && endpoint.Failing != failing)
        {
            endpoint.Failing = failing;
            await SaveAsync();
        }
    }

    private async Task SaveAsync()
    {
        _targets = null;
        await state.WriteOrReloadAsync(this, logger);
    }

    private static DomainError NotFound() => DomainError.NotFound("Webhook");

    private static WebhookDto ToDto(WebhookEndpointState e, bool withSecret) =>
        new(e.WebhookId, e.Url, e.Events, e.Enabled, withSecret ? e.Secret : null, e.Description, e.CreatedAt, e.Failing, e.Format);
}

using System.Globalization;
using System.Threading.RateLimiting;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace LiveGrains.Gateway.RateLimiting;

/// <summary>Configuration section <c>RateLimits</c> (requests per second; each bucket holds twice that as a burst).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    public bool Enabled { get; set; } = true;

    /// <summary>Per key (a token counts against the key that signed it), every route but viewer activity.</summary>
    public int PerKeyPerSecond { get; set; } = 2_000;

    /// <summary>Per tenant, every route but viewer activity.</summary>
    public int PerTenantPerSecond { get; set; } = 10_000;

    /// <summary>Per key, viewer activity (join, heartbeat, leave, activity, likes, chat): one edge batches many viewers.</summary>
    public int ActivityPerKeyPerSecond { get; set; } = 200_000;
}

public sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    /// <summary>Past this a bucket's burst would overflow the limiter's int permits.</summary>
    public const int MaxPerSecond = 100_000_000;

    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        Check(failures, nameof(options.PerKeyPerSecond), options.PerKeyPerSecond);
        Check(failures, nameof(options.PerTenantPerSecond), options.PerTenantPerSecond);
        Check(failures, nameof(options.ActivityPerKeyPerSecond), options.ActivityPerKeyPerSecond);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string name, int value)
    {
        if (value is < 1 or > MaxPerSecond)
        {
            failures.Add($"{RateLimitOptions.Section}:{name} must be between 1 and {MaxPerSecond} (got {value}).");
        }
    }
}

/// <summary>
/// Token buckets per key and per tenant with ASP.NET Core's rate limiter, in this gateway process: N gateways admit
/// up to N times the limits, because sharing buckets would put a cluster round trip on every request. Viewer
/// activity has its own per-key bucket and does not drain the others, so a flood of joins never locks a host
/// out of ending a live.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddLiveGrainsRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton<Buckets>();
        services.AddSingleton<RateLimitHeaders>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<Buckets>((o, buckets) =>
        {
            o.GlobalLimiter = buckets.Limiter;
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, _) => buckets.RejectAsync(context.HttpContext, context.Lease);
        });
        return services;
    }

    /// <summary>The limiters, built once from the validated options.</summary>
    public sealed class Buckets
    {
        private readonly RateLimitOptions _options;
        private readonly PartitionedRateLimiter<HttpContext> _perKey;
        private readonly PartitionedRateLimiter<HttpContext> _perTenant;

        public Buckets(IOptions<RateLimitOptions> options)
        {
            _options = options.Value;
            _perKey = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                Caller.From(context.User) is not { } caller || !_options.Enabled
                    ? RateLimitPartition.GetNoLimiter("")
                    : IsActivity(context)
                        ? RateLimitPartition.GetTokenBucketLimiter("activity/" + caller.KeyId, _ => Bucket(_options.ActivityPerKeyPerSecond))
                        : RateLimitPartition.GetTokenBucketLimiter("key/" + caller.KeyId, _ => Bucket(_options.PerKeyPerSecond)));
            _perTenant = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                Caller.From(context.User) is not { } caller || !_options.Enabled || IsActivity(context)
                    ? RateLimitPartition.GetNoLimiter("")
                    : RateLimitPartition.GetTokenBucketLimiter(caller.Tenant, _ => Bucket(_options.PerTenantPerSecond)));
            Limiter = PartitionedRateLimiter.CreateChained(_perKey, _perTenant);
        }

        public PartitionedRateLimiter<HttpContext> Limiter { get; }

        /// <summary>429 <c>rate_limited</c> with <c>Retry-After</c> and the <c>RateLimit-*</c> headers of the bucket that was empty.</summary>
        public async ValueTask RejectAsync(HttpContext context, RateLimitLease lease)
        {
            var tenantEmpty = !IsActivity(context) && _perTenant.GetStatistics(context) is { CurrentAvailablePermits: < 1 }
                && _perKey.GetStatistics(context) is not { CurrentAvailablePermits: < 1 };
            var limit = IsActivity(context) ? _options.ActivityPerKeyPerSecond : tenantEmpty ? _options.PerTenantPerSecond : _options.PerKeyPerSecond;
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            WriteHeaders(context.Response.Headers, limit, 0, seconds);
            var message = (tenantEmpty ? "The tenant's" : "This key's") + $" request rate is over {limit} a second; retry after {seconds} s.";
            await (context.GetEndpoint()?.Metadata.GetMetadata<Apis.Compat.ICompatErrors>() is { } compat
                ? compat.WriteAsync(context, StatusCodes.Status429TooManyRequests, "rate_limited", message)
                : Problems.Write(context, StatusCodes.Status429TooManyRequests, "rate_limited", message));
        }

        /// <summary>
        /// The <c>RateLimit-*</c> headers on an admitted request too, as clients of rate-limited APIs expect on every
        /// answer, so they can slow down before a 429: of the buckets the request drew from (key and tenant, or the
        /// key's activity bucket), the one with the fewest requests left. <c>RateLimit-Remaining</c> counts what the
        /// bucket holds now, up to the burst (2x <c>RateLimit-Limit</c>); <c>RateLimit-Reset</c> is the seconds until
        /// it is full again. Nothing is written when limits are off or the caller is not authenticated.
        /// </summary>
        public void AddHeaders(HttpContext context)
        {
            if (!_options.Enabled || Caller.From(context.User) is null)
            {
                return;
            }

            var activity = IsActivity(context);
            var limit = activity ? _options.ActivityPerKeyPerSecond : _options.PerKeyPerSecond;
            var remaining = _perKey.GetStatistics(context)?.CurrentAvailablePermits ?? Burst(limit);
            if (!activity && _perTenant.GetStatistics(context) is { } tenant && tenant.CurrentAvailablePermits < remaining)
            {
                limit = _options.PerTenantPerSecond;
                remaining = tenant.CurrentAvailablePermits;
            }

            remaining = Math.Max(0, remaining);
            var reset = (int)Math.Ceiling((double)(Burst(limit) - remaining) / limit);
            WriteHeaders(context.Response.Headers, limit, remaining, Math.Max(0, reset));
        }

        private static void WriteHeaders(IHeaderDictionary headers, int limit, long remaining, int resetSeconds)
        {
            headers["RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
            headers["RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
            headers["RateLimit-Reset"] = resetSeconds.ToString(CultureInfo.InvariantCulture);
            headers["RateLimit-Policy"] = $"{limit};w=1;burst={Burst(limit)}";
        }

        private static bool IsActivity(HttpContext context) =>
            AccessPolicy.EndpointName(context) is { } name && AccessPolicy.ViewerActivity.Contains(name);

        private static int Burst(int perSecond) => (int)Math.Min(int.MaxValue, 2L * perSecond);

        /// <summary>Refilled ten times a second (or once per token below ten a second), so a burst recovers smoothly.</summary>
        private static TokenBucketRateLimiterOptions Bucket(int perSecond)
        {
            var periods = Math.Min(10, perSecond);
            return new TokenBucketRateLimiterOptions
            {
                TokenLimit = Burst(perSecond),
                TokensPerPeriod = (int)Math.Ceiling((double)perSecond / periods),
                ReplenishmentPeriod = TimeSpan.FromSeconds(1.0 / periods),
                QueueLimit = 0,
                AutoReplenishment = true,
            };
        }
    }
}

/// <summary>Right after the rate limiter: the <c>RateLimit-*</c> headers on every admitted request (<see cref="RateLimits.Buckets.AddHeaders"/>).</summary>
public sealed class RateLimitHeaders(RateLimits.Buckets buckets) : IMiddleware
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        buckets.AddHeaders(context);
        return next(context);
    }
}

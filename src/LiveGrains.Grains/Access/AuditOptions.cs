using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LiveGrains.Grains.Access;

/// <summary>Configuration section <c>Audit</c>.</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Entries older than this many days are no longer returned, and their pages are dropped from storage.</summary>
    public int RetentionDays { get; set; } = 30;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);
}

public sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    /// <summary>Ten years: past that "retention" means forever, which a bounded audit store should not promise.</summary>
    public const int MaxRetentionDays = 3_650;

    public ValidateOptionsResult Validate(string? name, AuditOptions options) =>
        options.RetentionDays is >= 1 and <= MaxRetentionDays
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{AuditOptions.Section}:{nameof(AuditOptions.RetentionDays)} must be between 1 and {MaxRetentionDays} (got {options.RetentionDays}).");
}

public static class AuditServiceCollectionExtensions
{
    public static IServiceCollection AddLiveGrainsAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuditOptions>().Bind(configuration.GetSection(AuditOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        return services;
    }
}

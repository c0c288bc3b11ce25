using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;

namespace LiveGrains.ServiceDefaults.Storage;

/// <summary>Where membership, grain state and reminders live.</summary>
public enum StorageProvider
{
    /// <summary>In-process: localhost clustering, memory grain state and reminders. Everything is lost at exit.</summary>
    Memory,

    /// <summary>Orleans' Redis providers (<c>ConnectionStrings:redis</c>).</summary>
    Redis,

    /// <summary>Orleans' Azure Storage providers (<c>ConnectionStrings:azure-storage</c>): Table membership and reminders, Blob grain state.</summary>
    Azure,
}

/// <summary>
/// The <c>Storage</c> section and the connection string it needs, resolved and validated once, when the host is built:
/// the provider decides which Orleans services are registered at all, so a wrong setting must stop the start with a
/// message that names the setting, not surface later as a connection error deep in Orleans.
/// </summary>
public sealed partial class StorageOptions
{
    public const string Section = "Storage";
    public const string RedisConnectionName = "redis";
    public const string AzureConnectionName = "azure-storage";
    public const string DefaultAzureContainerName = "livegrains-state";

    /// <summary><c>Storage:Provider</c>: memory, redis or azure. Unset: redis when <c>ConnectionStrings:redis</c> is set, else memory.</summary>
    public StorageProvider Provider { get; init; }

    /// <summary><c>ConnectionStrings:redis</c> (Redis provider only).</summary>
    public string? RedisConnectionString { get; init; }

    /// <summary><c>ConnectionStrings:azure-storage</c> (Azure provider only).</summary>
    public string? AzureConnectionString { get; init; }

    /// <summary>
    /// <c>Storage:Azure:ContainerName</c>: the blob container of grain state. Blob names hold only grain type and id,
    /// not the service id, so two services sharing a storage account need different containers (membership and
    /// reminder rows are already partitioned by cluster and service id).
    /// </summary>
    public string AzureContainerName { get; init; } = DefaultAzureContainerName;

    /// <summary>True for the providers that keep state outside the process (the cluster can span hosts).</summary>
    public bool IsDurable => Provider != StorageProvider.Memory;

    /// <summary>Reads and validates the settings; throws <see cref="InvalidOperationException"/> naming every problem.</summary>
    public static StorageOptions Resolve(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var errors = new List<string>();
        var redis = NonEmpty(configuration.GetConnectionString(RedisConnectionName));
        var azure = NonEmpty(configuration.GetConnectionString(AzureConnectionName));
        var raw = NonEmpty(configuration[$"{Section}:Provider"]);

        StorageProvider provider;
        if (raw is null)
        {
            provider = redis is null ? StorageProvider.Memory : StorageProvider.Redis;
        }
        else if (!Enum.TryParse(raw, ignoreCase: true, out provider) || !Enum.IsDefined(provider) || int.TryParse(raw, out _))
        {
            errors.Add($"Storage:Provider must be memory, redis or azure (was '{raw}').");
        }

        if (provider == StorageProvider.Redis && redis is null)
        {
            errors.Add("Storage:Provider=redis needs ConnectionStrings:redis (e.g. 127.0.0.1:6379).");
        }

        var container = NonEmpty(configuration[$"{Section}:Azure:ContainerName"]) ?? DefaultAzureContainerName;
        if (provider == StorageProvider.Azure)
        {
            if (azure is null)
            {
                errors.Add("Storage:Provider=azure needs ConnectionStrings:azure-storage (an Azure Storage account connection string; "
                    + "UseDevelopmentStorage=true for Azurite on its default ports).");
            }
            else if (!IsValidAzureConnectionString(azure))
            {
                // The value itself holds the account key: never repeat it.
                errors.Add("ConnectionStrings:azure-storage is not a valid Azure Storage connection string "
                    + "(expected e.g. DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net).");
            }

            if (!ContainerNamePattern().IsMatch(container) || container.Contains("--", StringComparison.Ordinal))
            {
                errors.Add($"Storage:Azure:ContainerName '{container}' is not a valid blob container name "
                    + "(3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit).");
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid storage configuration: " + string.Join(" ", errors));
        }

        return new StorageOptions
        {
            Provider = provider,
            RedisConnectionString = provider == StorageProvider.Redis ? redis : null,
            AzureConnectionString = provider == StorageProvider.Azure ? azure : null,
            AzureContainerName = container,
        };
    }

    /// <summary>One line for the startup banner and logs; never contains a connection string.</summary>
    public string Describe() => Provider switch
    {
        StorageProvider.Redis => "Redis (clustering, grain state and reminders)",
        StorageProvider.Azure => $"Azure Storage (Table clustering and reminders, Blob grain state in container '{AzureContainerName}')",
        _ => "in memory",
    };

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool IsValidAzureConnectionString(string connectionString)
    {
        try
        {
            // Both clients parse the string without a network call; each needs its own endpoint in it.
            _ = new TableServiceClient(connectionString);
            _ = new BlobServiceClient(connectionString);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerNamePattern();
}

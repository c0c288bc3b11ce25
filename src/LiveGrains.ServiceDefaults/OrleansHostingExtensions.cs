using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using LiveGrains.Grains;
using LiveGrains.Grains.Access;
using LiveGrains.Grains.Stats;
using LiveGrains.Grains.Webhooks;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using LiveGrains.ServiceDefaults.Failover;
using LiveGrains.ServiceDefaults.Idempotency;
using LiveGrains.ServiceDefaults.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Storage;
using StackExchange.Redis;

namespace LiveGrains.ServiceDefaults;

/// <summary>
/// One place that decides how a silo or client is hosted, from <c>Storage:Provider</c> (<see cref="StorageOptions"/>):
/// embedded (localhost clustering, in-memory state), Orleans' Redis providers, or Orleans' Azure Storage providers
/// (Table membership and reminders, Blob grain state) for membership, grain state and reminders.
/// </summary>
public static class OrleansHostingExtensions
{
    /// <summary>The validated storage settings; throws at host build time when they are wrong.</summary>
    public static StorageOptions Storage(this IConfiguration configuration) => StorageOptions.Resolve(configuration);

    public static ISiloBuilder UseLiveGrainsSilo(this ISiloBuilder silo, IConfiguration configuration)
    {
        var orleans = configuration.GetSection("Orleans");
        var siloPort = orleans.GetValue("SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
        var gatewayPort = orleans.GetValue("GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
        var storage = configuration.Storage();
        silo.Services.AddSingleton(storage);

        silo.Configure<ClusterOptions>(o => ConfigureCluster(o, configuration));
        switch (storage.Provider)
        {
            case StorageProvider.Memory:
                silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: ServiceId(configuration), clusterId: ClusterId(configuration));
                silo.AddMemoryGrainStorage(LiveGrainsStorage.State);
                silo.UseInMemoryReminderService();
                break;
            case StorageProvider.Redis:
                var redisOptions = ParseRedis(storage.RedisConnectionString!);
                silo.UseRedisClustering(o => o.ConfigurationOptions = redisOptions.Clone());
                silo.AddRedisGrainStorage(LiveGrainsStorage.State, o =>
                {
                    o.ConfigurationOptions = redisOptions.Clone();

                    // A cleared state (expired feed and audit pages, the superseded records of index and feed logs) is
                    // deleted: Orleans' default keeps an empty hash per cleared key forever (Azure Blob deletes by default).
                    o.DeleteStateOnClear = true;
                });
                silo.UseRedisReminderService(o => o.ConfigurationOptions = redisOptions.Clone());
                break;
            case StorageProvider.Azure:
                var azure = storage.AzureConnectionString!;
                silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(azure));

                // Blob rather than Table grain state: a table entity holds at most 1 MiB split over 64 KiB properties,
                // a blob has no such limit for the bounded-but-large states (webhook delivery logs, idempotent answers).
                // Blob writes are conditional on the ETag like Redis's, so a duplicate activation still fails its write.
                silo.AddAzureBlobGrainStorage(LiveGrainsStorage.State, o =>
                {
                    o.BlobServiceClient = new BlobServiceClient(azure);
                    o.ContainerName = storage.AzureContainerName;
                });
                silo.UseAzureTableReminderService(o => o.TableServiceClient = new TableServiceClient(azure));
                break;
        }

        if (storage.IsDurable)
        {
            silo.ConfigureEndpoints(AdvertisedAddress(configuration), siloPort, gatewayPort, listenOnAnyHostAddress: true);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                // Detect a killed silo in about a second, not the 30 s+ default (docs/scale-out.md). Orleans probes every
                // MinProbeTimeout (ProbeTimeout / 2, 0.5 s) while answers are fast, and stretches the period and timeout
                // up to MaxProbeTimeout when answers slow down or this silo is degraded. The ceiling stays 8 s (it was 4 x the
                // old 2 s ProbeTimeout), so a stalled silo is given as long as before. ProbeTimeout is also how long a
                // joining silo waits before it re-pings the Active rows of a cluster that crashed (cold start).
                o.ProbeTimeout = TimeSpan.FromSeconds(orleans.GetValue("ProbeTimeoutSeconds", 1.0));
                o.MaxProbeTimeout = TimeSpan.FromSeconds(orleans.GetValue("MaxProbeTimeoutSeconds", 8.0));
                o.NumMissedProbesLimit = orleans.GetValue("NumMissedProbesLimit", 2);

                // A silo reads its own death within 2 s (the membership fence below bounds it regardless).
                o.TableRefreshTimeout = TimeSpan.FromSeconds(2);

                // After a total crash the table still lists the dead silos as Active. A joining silo waits until every
                // Active silo answers a ping, and probes (then evicts) only silos whose IAmAlive is stale; with Orleans'
                // 30 s x 3 that took 85 s. 1 s x 3: stale 3 s after the crash (one small write a second per silo, to
                // Redis or to the Azure table alike).
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedTableIAmAliveLimit = 3;

                // Dead rows go after 10 minutes instead of Orleans' 7 days; they are kept that long only to be read.
                o.DefunctSiloExpiration = TimeSpan.FromMinutes(10);
                o.DefunctSiloCleanupPeriod = TimeSpan.FromMinutes(1);
            });
        }

        if (!string.IsNullOrEmpty(configuration["ORLEANS_SERVICE_ID"]) && !string.IsNullOrEmpty(configuration["POD_NAME"]))
        {
            // In Kubernetes (infra/k8s): identity and endpoints from the pod, and dead pods' silos are
            // declared dead as soon as Kubernetes deletes them.
            silo.UseKubernetesHosting();
        }

        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = ResponseTimeout(configuration));
        if (!string.Equals(configuration["Orleans:GrainDirectory"], "default", StringComparison.OrdinalIgnoreCase))
        {
            // Orleans' strongly consistent directory (experimental in 10.x), the default here: with the eventually
            // consistent one, a rolling restart left duplicate activations serving stale state (an acknowledged end
            // read back as live; two lives on air). docs/scale-out.md has the runs.
#pragma warning disable ORLEANSEXP003
            silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003

            // After a silo is declared dead, the directory holds its grains and the hash ranges it owned under a lease
            // for Orleans:DirectoryHoldSeconds (RangeLeaseDuration minus the failure-detection window), which the
            // membership fence makes safe: a silo that cannot confirm its membership stops serving before the hold ends.
            silo.Services.AddOptions<GrainDirectoryOptions>()
                .Configure<IOptions<ClusterMembershipOptions>, IOptions<FailoverOptions>>((o, membership, failover) =>
                    o.RangeLeaseDuration = failover.Value.RangeLeaseDuration(membership.Value));
        }

        if (storage.IsDurable)
        {
            silo.Services.AddSingleton<MembershipFence>();
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<MembershipFence>());
            silo.AddIncomingGrainCallFilter<MembershipFenceFilter>();
        }

        silo.Services.AddOptions<FailoverOptions>().Bind(orleans).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<FailoverOptions>, FailoverOptionsValidator>();
        silo.Services.Replace(ServiceDescriptor.Singleton<IFatalErrorHandler, FailFastFatalErrorHandler>());

        if (configuration.DashboardEnabled())
        {
            silo.AddDashboard();
        }

        silo.Services.AddLiveGrainsSiloServices(configuration);
        return silo;
    }

    public static IClientBuilder UseLiveGrainsClient(this IClientBuilder client, IConfiguration configuration)
    {
        var storage = configuration.Storage();
        client.Configure<ClusterOptions>(o => ConfigureCluster(o, configuration));
        switch (storage.Provider)
        {
            case StorageProvider.Redis:
                var redisOptions = ParseRedis(storage.RedisConnectionString!);
                client.UseRedisClustering(o => o.ConfigurationOptions = redisOptions.Clone());
                break;
            case StorageProvider.Azure:
                var azure = storage.AzureConnectionString!;
                client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(azure));
                break;
            default:
                throw new InvalidOperationException(
                    "Gateway:Mode=client finds the cluster's silos in the membership table: set Storage:Provider=redis (ConnectionStrings:redis) "
                    + "or Storage:Provider=azure (ConnectionStrings:azure-storage).");
        }

        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = ResponseTimeout(configuration));
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        if (configuration.DashboardEnabled())
        {
            client.AddDashboard();
        }

        return client;
    }

    /// <summary>
    /// The process's one Redis connection outside Orleans' own (Redis mode): the idempotency records and the health
    /// check share it, opened on first use and reconnecting by itself while Redis is down.
    /// </summary>
    public static IServiceCollection AddLazyRedisConnection(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<ILazyRedisConnection>(_ => new LazyRedisConnection(ParseRedis(configuration.Storage().RedisConnectionString!)));
        return services;
    }

    /// <summary>
    /// Where the gateway keeps <c>Idempotency-Key</c> records (<see cref="IIdempotencyStore"/>): in the store itself with
    /// Redis or Azure, so a keyed request never waits on the grain directory after a silo dies (docs/chaos.md,
    /// "Session 7"); in a grain in the single-process memory mode.
    /// </summary>
    public static IServiceCollection AddLiveGrainsIdempotencyStore(this IServiceCollection services, IConfiguration configuration)
    {
        var storage = configuration.Storage();
        services.TryAddSingleton(TimeProvider.System);
        switch (storage.Provider)
        {
            case StorageProvider.Redis:
                services.AddLazyRedisConnection(configuration);
                services.TryAddSingleton<IIdempotencyStore>(sp => new RedisIdempotencyStore(
                    sp.GetRequiredService<ILazyRedisConnection>(), ServiceId(configuration), sp.GetRequiredService<TimeProvider>()));
                break;
            case StorageProvider.Azure:
                services.TryAddSingleton<IIdempotencyStore>(sp => new AzureBlobIdempotencyStore(
                    new BlobServiceClient(storage.AzureConnectionString!).GetBlobContainerClient(storage.AzureContainerName),
                    ServiceId(configuration), sp.GetRequiredService<TimeProvider>()));
                break;
            default:
                services.TryAddSingleton<IIdempotencyStore, GrainIdempotencyStore>();
                break;
        }

        return services;
    }

    /// <summary>Services every silo needs, whatever the hosting mode. Tests call this too.</summary>
    public static IServiceCollection AddLiveGrainsSiloServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(LiveGrainsClock.System);
        services.TryAddSingleton<LiveGrains.Grains.Lives.LiveArchives>();
        services.TryAddSingleton<LiveGrains.Grains.Listing.LiveIndexPushes>();
        services.TryAddSingleton<LiveGrains.Grains.Presets.PresetCache>();
        services.Configure<LiveGrains.Grains.Rooms.LiveLinksOptions>(o =>
        {
            o.WatchUrlTemplate = configuration["Links:WatchUrlTemplate"];
            o.HlsBaseUrl = configuration["Ingest:HlsBaseUrl"];
            o.RtmpBaseUrl = configuration["Ingest:RtmpBaseUrl"] is { Length: > 0 } rtmp ? rtmp : o.RtmpBaseUrl;
            o.WhipBaseUrl = configuration["Ingest:WhipBaseUrl"] is { Length: > 0 } whip ? whip : o.WhipBaseUrl;
        });

        // Version-tolerant binary state ([GenerateSerializer]/[Id]) instead of the JSON default, written with one
        // allocation per write (PooledGrainStorageSerializer).
        services.AddSingleton<IGrainStorageSerializer, PooledGrainStorageSerializer>();
        services.AddLiveGrainsWebhooks(configuration);
        services.AddLiveStats(configuration);
        services.AddLiveGrainsAudit(configuration);
        services.AddOptions<LiveGrains.Grains.Streams.StreamOptions>().Bind(configuration.GetSection("Streams"));

        // Dropping publishers at the media servers (docs/ingest.md): the silos call the control APIs, not the gateways.
        services.AddOptions<LiveGrains.Grains.Streams.MediaServerControlOptions>().Bind(configuration.GetSection("Ingest"));
        services.AddHttpClient(LiveGrains.Grains.Streams.HttpMediaServerControl.HttpClientName);
        services.TryAddSingleton<LiveGrains.Grains.Streams.IMediaServerControl, LiveGrains.Grains.Streams.HttpMediaServerControl>();
        services.AddOptions<LiveGrains.Grains.Videos.VideoOptions>().Bind(configuration.GetSection("Videos"));

        // Orleans' default minimum reminder period (1 min) would let a reconnect window whose silo died fire
        // up to a minute late; ingest windows are seconds (docs/ingest.md).
        services.Configure<Orleans.Hosting.ReminderOptions>(o =>
            o.MinimumReminderPeriod = TimeSpan.FromSeconds(configuration.GetValue("Orleans:MinimumReminderPeriodSeconds", 5.0)));

        // An idle room leaves memory after Rooms:IdleCollectionSeconds (2 min), not Orleans' 15: its state is all it
        // needs to carry on, and a live on air with no traffic should cost its room nothing (docs/benchmarks.md, run M).
        // Orleans refuses an age not above GrainCollectionOptions.CollectionQuantum (1 min) at start.
        var roomAge = configuration.GetValue("Rooms:IdleCollectionSeconds", LiveGrains.Grains.Rooms.RoomGrain.DefaultIdleCollectionAge.TotalSeconds);
        services.Configure<GrainCollectionOptions>(o =>
            o.ClassSpecificCollectionAge[typeof(LiveGrains.Grains.Rooms.RoomGrain).FullName!] = TimeSpan.FromSeconds(roomAge));
        return services;
    }

    private static void ConfigureCluster(ClusterOptions options, IConfiguration configuration)
    {
        options.ClusterId = ClusterId(configuration);
        options.ServiceId = ServiceId(configuration);
    }

    private static string ClusterId(IConfiguration c) => c["Orleans:ClusterId"] is { Length: > 0 } v ? v : "livegrains";

    /// <summary>
    /// <c>Ops:Dashboard</c> (default false; true in the hosts' appsettings.Development.json and in docker-compose): the
    /// Orleans dashboard samples every Orleans metric once a second on each node whether or not anyone looks, measured
    /// at 6-8% of the CPU and ~110 MiB under load (docs/benchmarks.md); Prometheus and Grafana are the always-on view.
    /// </summary>
    public static bool DashboardEnabled(this IConfiguration configuration) => configuration.GetValue("Ops:Dashboard", false);

    private static string ServiceId(IConfiguration c) => c["Orleans:ServiceId"] is { Length: > 0 } v ? v : "livegrains";

    /// <summary>
    /// The default grain call timeout, client and silo alike: 10 s. After a silo is killed it bounds how long a call
    /// waits, because a client (the gateway in client mode) is never told that a call it sent through a gateway silo
    /// was lost with the silo behind it; Orleans breaks outstanding calls to a dead silo on silos only
    /// (docs/chaos.md). 5 s was tried and reverted: a graceful silo stop under load took up to 6.3 s to hand its
    /// grains over, and a transition (not retried: it is not deduplicated) waiting on such a room failed with 503,
    /// breaking the rolling restart's "zero failed requests". Grain methods that legitimately take longer (an
    /// outbound webhook request, the event-stream long poll) declare their own <c>[ResponseTimeout]</c>.
    /// </summary>
    public const double DefaultResponseTimeoutSeconds = 10;

    private static TimeSpan ResponseTimeout(IConfiguration c) =>
        TimeSpan.FromSeconds(c.GetValue("Orleans:ResponseTimeoutSeconds", DefaultResponseTimeoutSeconds));

    private static ConfigurationOptions ParseRedis(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;

        // The .NET thread pool runs the connection's I/O callbacks instead of the library's own dedicated threads:
        // grain storage answers then complete without a hop between thread sets (measured: docs/benchmarks.md).
        options.SocketManager = SocketManager.ThreadPool;
        return options;
    }

    /// <summary>
    /// The address other silos and clients use to reach this one: <c>Orleans:AdvertisedIP</c> (an address,
    /// or <c>auto</c> for the host's first non-loopback IPv4 address, as containers need), else <c>POD_IP</c>,
    /// else loopback, which keeps a single-host cluster on 127.0.0.1.
    /// </summary>
    private static IPAddress AdvertisedAddress(IConfiguration configuration)
    {
        var configured = configuration["Orleans:AdvertisedIP"] ?? configuration["POD_IP"];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return IPAddress.Loopback;
        }

        if (string.Equals(configured, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? IPAddress.Loopback;
        }

        return IPAddress.Parse(configured);
    }
}

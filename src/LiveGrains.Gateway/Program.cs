using LiveGrains.Gateway.Apis;
using LiveGrains.Gateway.Apis.Compat;
using LiveGrains.Gateway.Hosting;
using LiveGrains.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddLiveGrainsOrleans();
builder.AddLiveGrainsApi();
builder.AddLiveGrainsIngest();
builder.AddLiveGrainsCompat();

var app = builder.Build();
app.UseLiveGrainsApi();
app.MapDefaultEndpoints();
app.MapRoomsApi();
app.MapLivesApi();
app.MapListingApi();
app.MapLiveStatsApi();
app.MapStreamsApi();
app.MapVideosApi();
app.MapIngestHooksApi();
app.MapRestreamHooksApi();
app.MapDestinationsApi();
app.MapWebhooksApi();
app.MapApiKeysApi();
app.MapTokensApi();
app.MapAuditApi();
app.MapCompatApis();
app.MapConsole();
app.MapPresetsApi();
app.MapEventsApi();
app.PrintStartupBanner();

app.Run();

/// <summary>The gateway's entry point; public so WebApplicationFactory can host it in tests.</summary>
public partial class Program;

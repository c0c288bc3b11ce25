using LiveGrains.ServiceDefaults;

// A silo-only node: grains, membership/state/reminders in Redis or Azure Storage, and a small HTTP surface for probes
// and metrics.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
if (!builder.Configuration.Storage().IsDurable && !builder.Environment.IsDevelopment())
{
    throw new InvalidOperationException(
        "LiveGrains.Silo needs durable storage (a silo-only node has no embedded mode): Storage:Provider=redis with ConnectionStrings:redis, "
        + "or Storage:Provider=azure with ConnectionStrings:azure-storage.");
}

builder.UseOrleans(silo => silo.UseLiveGrainsSilo(builder.Configuration));
builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("orleans");
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

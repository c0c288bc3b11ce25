using LiveGrains.ServiceDefaults;

// A silo-only node: grains, Redis membership/state/reminders, and a small HTTP surface for probes and metrics.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
if (builder.Configuration.RedisConnectionString() is null && !builder.Environment.IsDevelopment())
{
    throw new InvalidOperationException("LiveGrains.Silo needs ConnectionStrings:redis (a silo-only node has no embedded mode).");
}

builder.UseOrleans(silo => silo.UseLiveGrainsSilo(builder.Configuration));
builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("orleans");
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();

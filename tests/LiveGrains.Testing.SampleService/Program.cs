var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var startDelay = TimeSpan.FromMilliseconds(app.Configuration.GetValue("Sample:StartDelayMilliseconds", 0));
var startedAt = DateTime.UtcNow;

// Answers 503 until the configured delay has passed, like a service that is up but not ready.
app.MapGet("/healthz", () => DateTime.UtcNow - startedAt >= startDelay
    ? Results.Text("ok")
    : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
app.MapGet("/env/{name}", (string name) => Results.Text(Environment.GetEnvironmentVariable(name) ?? string.Empty));
app.MapGet("/args", () => Results.Text(string.Join(' ', args)));
app.MapGet("/pid", () => Results.Text(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)));

if (app.Configuration.GetValue("Sample:ExitAtStart", false))
{
    Console.Error.WriteLine("sample-service: exiting at start as configured");
    return 3;
}

app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine("sample-service: started"));
app.Lifetime.ApplicationStopping.Register(() => Console.WriteLine("sample-service: stopping gracefully"));
await app.RunAsync();
return 0;

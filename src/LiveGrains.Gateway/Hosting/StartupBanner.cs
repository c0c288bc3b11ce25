using LiveGrains.Gateway.Auth;
using LiveGrains.ServiceDefaults;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LiveGrains.Gateway.Hosting;

public static class StartupBanner
{
    /// <summary>Tells the person who ran the embedded default where it listens, how to call it and that state is in memory.</summary>
    public static void PrintStartupBanner(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var url = addresses.FirstOrDefault() ?? "(no HTTP address)";
            var storage = app.Configuration.Storage();
            var mode = app.Configuration.IsClientMode() ? "gateway, Orleans client of a silo cluster" : "gateway with a co-hosted silo";
            var devKey = app.Services.GetRequiredService<ApiKeyDirectory>().DevApiKey;
            Console.WriteLine();
            Console.WriteLine($"LiveGrains is running ({mode}) on {url}");
            Console.WriteLine(storage.IsDurable
                ? $"State: {storage.Describe()}."
                : "State: IN MEMORY. Everything is lost when this process stops; set ConnectionStrings__redis (or Storage__Provider=azure "
                    + "with ConnectionStrings__azure-storage) for durable state.");
            if (devKey is not null)
            {
                Console.WriteLine($"Dev API key (Development only): {devKey}");
                Console.WriteLine($"  curl -H 'Authorization: Bearer {devKey}' -X POST {url}/v1/rooms -H 'Content-Type: application/json' -d '{{\"room_id\":\"demo\"}}'");
            }

            Console.WriteLine($"API reference: {url}/scalar/v1   OpenAPI: {url}/openapi/v1.json");
            Console.WriteLine();
        });
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace LiveGrains.Gateway.Tests;

/// <summary>
/// The operator surfaces: <c>/metrics</c> (Prometheus) and <c>/dashboard</c> (Orleans dashboard) answer only the
/// <c>Ops:ApiKey</c> (Bearer, or the Basic password), never a tenant key; <c>Ops:Dashboard=false</c> removes the dashboard.
/// </summary>
public sealed class OpsEndpointsTests
{
    private const string OpsKey = "ops-key-0123456789";

    [Fact]
    public async Task MetricsAnswerTheOperatorKeyOnly()
    {
        await using var factory = Factory(dashboard: true);
        var client = factory.CreateClient();

        using (var anonymous = await client.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/metrics", new AuthenticationHeaderValue("Bearer", GatewayFactory.AcmeKey)));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/metrics", new AuthenticationHeaderValue("Bearer", OpsKey + "x")));

        // Something LiveGrains counts, so the scrape shows its own meter.
        var tenant = factory.CreateClient(GatewayFactory.AcmeKey);
        var roomId = Http.Unique("ops");
        (await tenant.PostJsonAsync("/v1/rooms", new { room_id = roomId })).EnsureSuccessStatusCode();
        (await tenant.PostJsonAsync($"/v1/rooms/{roomId}/go-live", new { title = "t" })).EnsureSuccessStatusCode();

        await Testing.Eventually.TrueAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", OpsKey);
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.OK && text.Contains("livegrains_golives", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), "the go-live counter in the Prometheus scrape");
    }

    [Fact]
    public async Task DashboardAnswersTheOperatorKeyAsBasicPassword()
    {
        await using var factory = Factory(dashboard: true);
        var client = factory.CreateClient();

        // "/dashboard/" itself: "/dashboard" redirects there, and HttpClient drops credentials on a redirect.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/dashboard/", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, "/dashboard/", Basic("admin", GatewayFactory.AcmeKey)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/dashboard/", Basic("admin", OpsKey)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/dashboard/index.min.js", Basic("admin", OpsKey)));
    }

    [Fact]
    public async Task DashboardCanBeTurnedOff()
    {
        await using var factory = Factory(dashboard: false);
        var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, "/dashboard/", Basic("admin", OpsKey)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, "/metrics", new AuthenticationHeaderValue("Bearer", OpsKey)));
    }

    [Fact]
    public async Task DashboardIsOffUnlessConfigured()
    {
        await using var factory = Factory(dashboard: null); // Production, no Ops:Dashboard
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client, "/dashboard/", Basic("admin", OpsKey)));
    }

    private static GatewayFactory Factory(bool? dashboard)
    {
        var factory = new GatewayFactory();
        factory.Settings["Ops:ApiKey"] = OpsKey;
        if (dashboard is { } on)
        {
            factory.Settings["Ops:Dashboard"] = on ? "true" : "false";
        }

        return factory;
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = authorization;
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}

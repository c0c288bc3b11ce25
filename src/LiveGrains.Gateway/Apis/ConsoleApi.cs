using System.Collections.Frozen;

namespace LiveGrains.Gateway.Apis;

/// <summary>
/// The web console at <c>/console</c>: static HTML, CSS and JavaScript modules embedded in the gateway assembly
/// (Console/assets), so every gateway serves the same console with no build toolchain and no content root to find.
/// The files load without auth (there is nothing secret in them); every API call the page makes carries the
/// key the user signed in with. The Content-Security-Policy allows scripts and styles from this origin only (no
/// inline script), and calls to this origin only, so a key kept in sessionStorage cannot be sent anywhere else.
/// </summary>
public static class ConsoleApi
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "LiveGrains.Gateway.Console.";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary();

    /// <summary>Asset name -> bytes, read once: the set is fixed at build time, so nothing on disk is ever opened per request.</summary>
    private static readonly Lazy<FrozenDictionary<string, byte[]>> Assets = new(LoadAssets);

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        // One route for /console, /console/ and /console/<file>: the page refers to its files by absolute path, so
        // it works with or without the trailing slash.
        app.MapGet("/console/{asset?}", ServeAsset).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    public static IResult ServeAsset(string? asset, HttpContext http)
    {
        var name = string.IsNullOrEmpty(asset) ? "index.html" : asset;
        if (!Assets.Value.TryGetValue(name, out var bytes) || !ContentTypes.TryGetValue(Path.GetExtension(name), out var type))
        {
            return TypedResults.NotFound();
        }

        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";

        // Revalidated on every load so a deployed gateway never pairs a new page with an old cached module.
        headers.CacheControl = "no-cache";
        return TypedResults.Bytes(bytes, type);
    }

    private static FrozenDictionary<string, byte[]> LoadAssets()
    {
        var assembly = typeof(ConsoleApi).Assembly;
        var assets = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            assets[resource[ResourcePrefix.Length..]] = copy.ToArray();
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

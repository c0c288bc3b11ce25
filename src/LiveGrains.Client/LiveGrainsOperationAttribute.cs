namespace LiveGrains.Client;

/// <summary>
/// The gateway operation a <see cref="LiveGrainsClient"/> method calls, as the OpenAPI document names it: the HTTP
/// method and the path template (<c>GET /v1/rooms/{roomId}</c>). The client builds each request from this attribute,
/// so it is the single place that says which endpoint a method reaches, and a test compares the set of them with the
/// gateway's live OpenAPI document.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class LiveGrainsOperationAttribute(string method, string path) : Attribute
{
    /// <summary>GET, POST, PATCH or DELETE.</summary>
    public string Method { get; } = method;

    /// <summary>The path template with <c>{name}</c> placeholders, filled from the method's arguments in order.</summary>
    public string Path { get; } = path;

    public override string ToString() => $"{Method} {Path}";
}

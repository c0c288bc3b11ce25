using System.Security.Claims;
using System.Text.Json;
using LiveGrains.Abstractions;

namespace LiveGrains.Gateway.Auth;

/// <summary>What a token lets its holder do: <c>{room?, live?, host?, viewer?}</c> (LiveKit's video grants, narrowed).</summary>
public sealed record TokenGrants(string? Room, string? Live, bool Host, bool Viewer)
{
    /// <summary>The grants of a verified token, or null when they are missing or malformed (the token is then refused).</summary>
    public static TokenGrants? Parse(Claim? claim)
    {
        if (claim is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(claim.Value);
            return FromJson(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static TokenGrants? FromJson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? room = null, live = null;
        bool host = false, viewer = false;
        foreach (var property in json.EnumerateObject())
        {
            switch (property.Name, property.Value.ValueKind)
            {
                case ("room", JsonValueKind.String):
                    room = property.Value.GetString();
                    break;
                case ("live", JsonValueKind.String):
                    live = property.Value.GetString();
                    break;
                case ("host", JsonValueKind.True or JsonValueKind.False):
                    host = property.Value.GetBoolean();
                    break;
                case ("viewer", JsonValueKind.True or JsonValueKind.False):
                    viewer = property.Value.GetBoolean();
                    break;
                case ("room" or "live", JsonValueKind.Null):
                    break;
                default:
                    return null;
            }
        }

        var grants = new TokenGrants(room, live, host, viewer);
        return grants.IsValid ? grants : null;
    }

    /// <summary>A grant names a valid room or live and allows something: a token that can do nothing is a mistake.</summary>
    public bool IsValid =>
        (Room is not null || Live is not null) && (Host || Viewer)
        && (Room is null || Ids.IsValidClientId(Room)) && (Live is null || Ids.IsValidLiveId(Live));

    /// <summary>True when the grant covers the live: named, or one of the named room's.</summary>
    public bool CoversLive(string liveId) =>
        string.Equals(Live, liveId, StringComparison.Ordinal)
        || (Room is not null && Ids.TryGetRoomOfLive(liveId, out var room) && string.Equals(room, Room, StringComparison.Ordinal));

    public bool CoversRoom(string roomId) => string.Equals(Room, roomId, StringComparison.Ordinal);

    /// <summary>As a JSON claim value and as <c>POST /v1/tokens</c> echoes it.</summary>
    public Dictionary<string, object> ToClaim()
    {
        var claim = new Dictionary<string, object>(StringComparer.Ordinal);
        if (Room is not null)
        {
            claim["room"] = Room;
        }

        if (Live is not null)
        {
            claim["live"] = Live;
        }

        claim["host"] = Host;
        claim["viewer"] = Viewer;
        return claim;
    }
}

/// <summary>
/// Who is calling, as every endpoint, the access check, the rate limiter and the audit log see it. Carried as claims
/// on the principal, so <c>user.Tenant()</c> works for every kind of caller.
/// </summary>
public sealed record Caller(string Tenant, string ActorType, string ActorId, string KeyId, ApiKeyScope Scope, TokenGrants? Grants)
{
    public const string KeyActor = "key";
    public const string TokenActor = "token";

    private const string ActorTypeClaim = "actor_type";
    private const string ActorIdClaim = "actor_id";
    private const string KeyIdClaim = "key_id";
    private const string ScopeClaim = "scope";
    private const string GrantsClaim = "grants";

    public bool IsToken => Grants is not null;

    /// <summary>The configured key's audit name stands in for a key id: it keys the rate limiter too.</summary>
    public static Caller ForConfiguredKey(string tenant, string actorId) => new(tenant, KeyActor, actorId, actorId, ApiKeyScope.Admin, null);

    public static Caller ForManagedKey(ApiKeyCredential key) => new(key.Tenant, KeyActor, key.KeyId, key.KeyId, key.Scope, null);

    /// <summary>A token can do no more than the key that signed it: the key's scope applies too.</summary>
    public static Caller ForToken(ApiKeyCredential key, string subject, TokenGrants grants) =>
        new(key.Tenant, TokenActor, subject, key.KeyId, key.Scope, grants);

    public ClaimsIdentity ToIdentity(string scheme)
    {
        List<Claim> claims =
        [
            new(ApiKeyAuthenticationHandler.TenantClaim, Tenant),
            new(ActorTypeClaim, ActorType),
            new(ActorIdClaim, ActorId),
            new(KeyIdClaim, KeyId),
            new(ScopeClaim, Scope.ToString()),
        ];
        if (Grants is not null)
        {
            claims.Add(new Claim(GrantsClaim, JsonSerializer.Serialize(Grants.ToClaim())));
        }

        return new CallerIdentity(this, claims, scheme);
    }

    /// <summary>
    /// A token's user (<c>sub</c>), the actor a transition records when its body names none (an API key is the server
    /// side acting for someone it names in <c>by</c>); null for API keys.
    /// </summary>
    public static string? TokenSubject(ClaimsPrincipal user) => From(user) is { IsToken: true } caller ? caller.ActorId : null;

    /// <summary>The caller of an authenticated request; null for anything the handler did not authenticate.</summary>
    public static Caller? From(ClaimsPrincipal user)
    {
        // The rate limiter, the access policy, the audit recorder and the endpoint all ask: the identity the handlers
        // issued carries the caller, so a token's grants are not parsed again each time. The claims stay the truth for
        // any other identity (a clone, a test principal).
        if (user.Identity is CallerIdentity { IsAuthenticated: true } issued)
        {
            return issued.Caller;
        }

        if (user.Identity?.IsAuthenticated != true
            || user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim) is not { } tenant
            || user.FindFirstValue(ActorTypeClaim) is not { } type
            || user.FindFirstValue(ActorIdClaim) is not { } id
            || user.FindFirstValue(KeyIdClaim) is not { } keyId
            || !Enum.TryParse<ApiKeyScope>(user.FindFirstValue(ScopeClaim), out var scope))
        {
            return null;
        }

        var grants = TokenGrants.Parse(user.FindFirst(GrantsClaim));
        return new Caller(tenant, type, id, keyId, scope, type == TokenActor ? grants : null);
    }
}

/// <summary>The identity the authentication handlers issue: the claims of <see cref="Caller.ToIdentity"/>, and the caller itself.</summary>
public sealed class CallerIdentity(Caller caller, IEnumerable<Claim> claims, string scheme) : ClaimsIdentity(claims, scheme)
{
    public Caller Caller { get; } = caller;
}

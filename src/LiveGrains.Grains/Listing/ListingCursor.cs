using System.Globalization;
using System.Text;
using LiveGrains.Abstractions;

namespace LiveGrains.Grains.Listing;

/// <summary>
/// A listing's cursor: the listing's name (a cursor of one order is refused by another), the last item's sort key and
/// its id, base64url. Stateless, so it survives restarts and works on any gateway.
/// </summary>
public static class ListingCursor
{
    public const int MaxLength = 256;

    public static string Encode(string listing, IndexHit last) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{listing}|{last.Key}|{last.Id}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string cursor, string listing, out IndexHit after)
    {
        after = default;
        if (cursor.Length > MaxLength)
        {
            return false;
        }

        var base64 = cursor.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var buffer = new byte[MaxLength];
        if (!Convert.TryFromBase64String(base64, buffer, out var written))
        {
            return false;
        }

        var parts = Encoding.UTF8.GetString(buffer, 0, written).Split('|');
        if (parts.Length != 3 || parts[0] != listing || parts[2].Length == 0
            || !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var key))
        {
            return false;
        }

        after = new IndexHit(key, parts[2]);
        return true;
    }
}

namespace LiveGrains.Abstractions;

/// <summary>
/// Destination ids: <c>ds_</c> + 26 chars (as <see cref="Ids.New"/>) + <c>.</c> + the room id, like live ids: a room owns
/// its destinations (their status follows its lives in the same write), so any gateway routes a destination call to
/// its room from the id alone.
/// </summary>
public static class DestinationIds
{
    public const string Prefix = "ds_";

    public const int MaxLength = 3 + 26 + 1 + Ids.MaxClientIdLength;

    public static string New(DateTimeOffset now, string roomId) => Ids.New(Prefix, now) + "." + roomId;

    /// <summary>The room of a destination id made by <see cref="New"/>; false for anything else.</summary>
    public static bool TryGetRoom(string? destinationId, out string roomId)
    {
        roomId = string.Empty;
        if (destinationId is null || destinationId.Length <= 30 || destinationId.Length > MaxLength
            || !destinationId.StartsWith(Prefix, StringComparison.Ordinal) || destinationId[29] != '.')
        {
            return false;
        }

        var room = destinationId[30..];
        if (!Ids.IsValidClientId(room) || !Ids.IsValidClientId(destinationId[..29]))
        {
            return false;
        }

        roomId = room;
        return true;
    }
}

namespace LiveGrains.Testing;

/// <summary>Scratch directories for the processes tests start.</summary>
public static class TestDirectories
{
    /// <summary>
    /// The parent of every scratch directory: <c>$LIVEGRAINS_TEST_TEMP</c> when set (test.sh sets it so that it can
    /// clean up after a crashed test host), otherwise livegrains-tests in the system temp directory.
    /// </summary>
    public static string Root
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("LIVEGRAINS_TEST_TEMP");
            return string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(Path.GetTempPath(), "livegrains-tests")
                : configured;
        }
    }

    /// <summary>Creates a new empty directory named after <paramref name="prefix"/>.</summary>
    public static string Create(string prefix)
    {
        var path = Path.Combine(Root, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes a scratch directory, ignoring failures (a file may still be held open).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

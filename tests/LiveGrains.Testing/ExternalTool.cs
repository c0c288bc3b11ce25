namespace LiveGrains.Testing;

/// <summary>Finds the external programs the tests drive (redis-server, nginx, ffmpeg) and fails loudly without them.</summary>
public static class ExternalTool
{
    // nginx lives in /usr/sbin, which a non-login PATH may lack.
    private static readonly string[] ExtraDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    /// <summary>
    /// The full path of <paramref name="name"/> (a bare name looked up on PATH, or a path), or an
    /// <see cref="InvalidOperationException"/> saying which Debian package provides it. Tests never skip for a missing tool.
    /// </summary>
    public static string Require(string name, string debianPackage)
    {
        var found = Find(name);
        if (found is not null)
        {
            return found;
        }

        throw new InvalidOperationException(
            $"'{name}' is not installed (searched PATH and {string.Join(", ", ExtraDirectories)}). "
            + $"The tests need it: run ./test.sh, which installs the test dependencies, or `apt-get install {debianPackage}`.");
    }

    /// <summary>The full path of <paramref name="name"/>, or null when it is not installed.</summary>
    public static string? Find(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Contains('/'))
        {
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(ExtraDirectories))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

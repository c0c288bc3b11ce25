namespace LiveGrains.Testing;

/// <summary>Locates the repository and the build output of its projects, matching how the tests themselves were built.</summary>
public static class RepoPaths
{
    private const string SolutionFile = "LiveGrains.sln";

    private static readonly Lazy<string> LazyRoot = new(FindRoot);
    private static readonly Lazy<(string Configuration, string TargetFramework)> LazyBuild = new(FindBuild);

    /// <summary>The directory that holds LiveGrains.sln.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The build configuration of the running test assembly (Release or Debug), read from its own output path.</summary>
    public static string Configuration => LazyBuild.Value.Configuration;

    /// <summary>The target framework folder of the running test assembly, e.g. net10.0.</summary>
    public static string TargetFramework => LazyBuild.Value.TargetFramework;

    /// <summary>The folder of a project of the repository, looked up under src/ and then tests/.</summary>
    public static string ProjectDirectory(string projectName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(projectName);
        foreach (var area in new[] { "src", "tests" })
        {
            var directory = Path.Combine(Root, area, projectName);
            if (File.Exists(Path.Combine(directory, projectName + ".csproj")))
            {
                return directory;
            }
        }

        throw new DirectoryNotFoundException(
            $"No project {projectName} in {Path.Combine(Root, "src")} or {Path.Combine(Root, "tests")}.");
    }

    /// <summary>
    /// The built dll of a project for the tests' configuration and framework, e.g.
    /// <c>RepoPaths.ProjectDll("LiveGrains.Silo")</c> is src/LiveGrains.Silo/bin/Release/net10.0/LiveGrains.Silo.dll.
    /// Throws when it has not been built.
    /// </summary>
    public static string ProjectDll(string projectName)
    {
        var directory = ProjectDirectory(projectName);
        var dll = Path.Combine(directory, "bin", Configuration, TargetFramework, projectName + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException(
                $"{dll} does not exist: build the solution first (dotnet build {SolutionFile} -c {Configuration}).", dll);
        }

        return dll;
    }

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, SolutionFile)))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException(
            $"Could not find {SolutionFile} above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}.");
    }

    private static (string Configuration, string TargetFramework) FindBuild()
    {
        // The test assembly runs from <project>/bin/<Configuration>/<tfm>/ (or .../<tfm>/<rid>/).
        var parts = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)
            .Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = parts.Length - 3; i >= 0; i--)
        {
            if (parts[i] == "bin")
            {
                return (parts[i + 1], parts[i + 2]);
            }
        }

        var configuration = typeof(RepoPaths).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>()
            .FirstOrDefault()?.Configuration;
        return (string.IsNullOrEmpty(configuration) ? "Release" : configuration, $"net{Environment.Version.Major}.{Environment.Version.Minor}");
    }
}

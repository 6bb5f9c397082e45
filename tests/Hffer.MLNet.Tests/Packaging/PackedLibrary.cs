namespace Hffer.MLNet.Tests.Packaging;

/// <summary>
/// Packs the library once for the packaging tests into a private feed, under a version no earlier run used, so the
/// NuGet cache can never hand a consumer an older build of the same version.
/// </summary>
public sealed class PackedLibrary : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public PackedLibrary()
    {
        RepositoryRoot = TestData.FolderAbove("Hffer.MLNet.sln");
        Version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}{Random.Shared.Next(1000):D3}";
        Feed = Path.Combine(_folder.Path, "feed");
        DotnetCommand.Succeed(RepositoryRoot, TimeSpan.FromMinutes(10), "pack",
            Path.Combine(RepositoryRoot, "src", "Hffer.MLNet", "Hffer.MLNet.csproj"), "-c", "Release", "-o", Feed,
            $"-p:Version={Version}");
    }

    public string RepositoryRoot { get; }

    public string Version { get; }

    public string Feed { get; }

    /// <summary>A fresh folder under this fixture's, deleted with it.</summary>
    public string NewFolder(string name)
    {
        string folder = Path.Combine(_folder.Path, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A nuget.config adding the private feed; the machine's own sources stay in effect.</summary>
    public void WriteNuGetConfig(string folder) => File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="hffer-test-feed" value="{Feed}" />
          </packageSources>
        </configuration>
        """);

    public void Dispose() => _folder.Dispose();
}

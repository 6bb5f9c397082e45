namespace Hffer.MLNet.Tests;

/// <summary>The FER-2013 images copied from samples/data into the test output.</summary>
internal static class TestData
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "data", "fer2013-mini");

    public static string Train => Path.Combine(Root, "train");

    public static string Test => Path.Combine(Root, "test");

    /// <summary>The nearest folder above the test output that holds <paramref name="marker"/>.</summary>
    public static string FolderAbove(string marker)
    {
        string folder = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(folder, marker)))
            folder = Path.GetDirectoryName(folder.TrimEnd(Path.DirectorySeparatorChar))
                ?? throw new InvalidOperationException($"No folder above the test output holds {marker}.");
        return folder;
    }
}

/// <summary>A folder under the system temporary directory, deleted on dispose.</summary>
internal sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hffer-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

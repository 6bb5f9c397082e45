using Hffer.MLNet.Data;

namespace Hffer.MLNet.Tests.Data;

public class ImageFolderTests
{
    [Fact]
    public void BundledSampleHasSevenClassesInAlphabeticalOrder()
    {
        var rows = HfferDataCatalog.ReadImageFolder(TestData.Train);

        Assert.Equal(280, rows.Count);
        Assert.Equal(["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"],
            rows.Select(r => r.Label).Distinct());
        Assert.All(rows, r => Assert.True(File.Exists(r.ImagePath)));
    }

    [Fact]
    public void MissingFolderIsNamedInTheError()
    {
        string missing = Path.Combine(Path.GetTempPath(), "hffer-no-such-folder");

        var error = Assert.Throws<DirectoryNotFoundException>(() => HfferDataCatalog.ReadImageFolder(missing));

        Assert.Contains("hffer-no-such-folder", error.Message);
    }

    [Fact]
    public void FolderWithoutImagesIsRejected()
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "happy"));
        File.WriteAllText(Path.Combine(folder.Path, "happy", "notes.txt"), "not an image");

        var error = Assert.Throws<InvalidDataException>(() => HfferDataCatalog.ReadImageFolder(folder.Path));

        Assert.Contains("no class folders with images", error.Message);
    }
}

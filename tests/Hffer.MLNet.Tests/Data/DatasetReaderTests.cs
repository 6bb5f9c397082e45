using Hffer.MLNet.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Tests.Data;

public class DatasetReaderTests
{
    [Fact]
    public void RafDbListIsSplitByPrefixAndLabelsOneToSevenMapToTheirNames()
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "EmoLabel"));
        Directory.CreateDirectory(Path.Combine(folder.Path, "Image", "aligned"));
        string face = HfferDataCatalog.ReadImageFolder(TestData.Train)[0].ImagePath;
        foreach (string name in new[] { "train_00001", "train_00002", "test_0001" })
            File.Copy(face, Path.Combine(folder.Path, "Image", "aligned", name + "_aligned.jpg"));
        File.WriteAllLines(Path.Combine(folder.Path, "EmoLabel", "list_patition_label.txt"),
            ["train_00001.jpg 1", "train_00002.jpg 7", "test_0001.jpg 4"]);
        var ml = new MLContext();

        var train = ml.Data.LoadRafDb(folder.Path, "train");
        var test = ml.Data.LoadRafDb(folder.Path, "test");

        Assert.Equal(["surprise", "neutral"], train.GetColumn<string>("Label"));
        Assert.Equal(["happy"], test.GetColumn<string>("Label"));
        Assert.EndsWith("test_0001_aligned.jpg", test.GetColumn<string>("ImagePath").Single());
    }

    [Fact]
    public void RafDbMissingImageIsNamedWithItsLine()
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "EmoLabel"));
        File.WriteAllLines(Path.Combine(folder.Path, "EmoLabel", "list_patition_label.txt"), ["train_00009.jpg 2"]);

        var error = Assert.Throws<FileNotFoundException>(() => new MLContext().Data.LoadRafDb(folder.Path, "train"));

        Assert.Contains("line 1", error.Message);
        Assert.Contains("train_00009_aligned.jpg", error.Message);
    }

    [Fact]
    public void Fer2013CsvRowsBecomeGreyImagesWithTheirCodeNames()
    {
        using var folder = new TemporaryFolder();
        string csv = Path.Combine(folder.Path, "fer2013.csv");
        string Pixels(int seed) => string.Join(" ", Enumerable.Range(0, 2304).Select(i => (i * seed + 7) % 256));
        File.WriteAllLines(csv, ["emotion,pixels,Usage", $"3,{Pixels(1)},Training", $"6,{Pixels(3)},PublicTest"]);
        var ml = new MLContext();

        var all = ml.Data.LoadFer2013Csv(csv);
        var training = ml.Data.LoadFer2013Csv(csv, usage: "Training");
        var pixels = ml.Transforms.ExtractPixels("Pixels", "Image").Fit(all).Transform(all)
            .GetColumn<float[]>("Pixels").ToArray();

        Assert.Equal(["happy", "neutral"], all.GetColumn<string>("Label"));
        Assert.Equal(["happy"], training.GetColumn<string>("Label"));
        Assert.Equal(3 * 2304, pixels[1].Length);
        Assert.Equal((5 * 3 + 7) % 256, pixels[1][5]);
        Assert.Equal(pixels[1][5], pixels[1][2304 + 5]);
    }

    [Fact]
    public void Fer2013CsvRowWithTooFewPixelsIsNamedByLine()
    {
        using var folder = new TemporaryFolder();
        string csv = Path.Combine(folder.Path, "fer2013.csv");
        File.WriteAllLines(csv, ["emotion,pixels,Usage", "0,1 2 3,Training"]);
        var data = new MLContext().Data.LoadFer2013Csv(csv);

        var error = Assert.Throws<InvalidDataException>(() => data.GetColumn<string>("Label").ToArray());

        Assert.Contains("line 2", error.Message);
        Assert.Contains("3 pixel values, expected 2304", error.Message);
    }
}

using Hffer.MLNet.Data;
using Hffer.MLNet.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using static Hffer.MLNet.Tests.FloatComparison;

namespace Hffer.MLNet.Tests.BadInput;

/// <summary>A model trained once for the image-input cases.</summary>
public sealed class SmallTrainedModel : IDisposable
{
    public SmallTrainedModel()
    {
        var ml = new MLContext(1);
        Model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
    }

    public TransformerChain<HfferTransformer> Model { get; }

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Every kind of image file users have, generated here: which ones score like the same face in plain RGB, and which
/// ones fail (or are left out when asked) with the file named.
/// </summary>
[Collection("Torch")]
public class ImageInputTests : IClassFixture<SmallTrainedModel>
{
    private readonly SmallTrainedModel _trained;

    public ImageInputTests(SmallTrainedModel trained) => _trained = trained;

    [Fact]
    public void GreyPaletteSixteenBitAndAlphaLayoutsScoreLikeTheSameFaceInRgb()
    {
        using var folder = new TemporaryFolder();
        var (width, height, grey) = GreyFace();
        string Write(string name, byte[] bytes)
        {
            string path = Path.Combine(folder.Path, name);
            File.WriteAllBytes(path, bytes);
            return path;
        }
        byte[] Row(int y, Func<byte, byte[]> pixel) => Enumerable.Range(0, width)
            .SelectMany(x => pixel(grey[y * width + x])).ToArray();
        byte[] greyPalette = Enumerable.Range(0, 256).SelectMany(v => new[] { (byte)v, (byte)v, (byte)v }).ToArray();

        string reference = Write("rgb.png", PngEncoder.Encode(width, height, PngEncoder.Rgb, 8, y => Row(y, v => [v, v, v])));
        string[] variants =
        [
            Write("grey.png", PngEncoder.Encode(width, height, PngEncoder.Grey, 8, y => Row(y, v => [v]))),
            Write("grey16.png", PngEncoder.Encode(width, height, PngEncoder.Grey, 16, y => Row(y, v => [v, v]))),
            Write("palette.png", PngEncoder.Encode(width, height, PngEncoder.Palette, 8, y => Row(y, v => [v]),
                greyPalette)),
            Write("grey-alpha.png", PngEncoder.Encode(width, height, PngEncoder.GreyAlpha, 8, y => Row(y, v => [v, 255]))),
            Write("rgba.png", PngEncoder.Encode(width, height, PngEncoder.Rgba, 8, y => Row(y, v => [v, v, v, 255]))),
            Write("rgb16.png", PngEncoder.Encode(width, height, PngEncoder.Rgb, 16, y => Row(y, v => [v, v, v, v, v, v]))),
            Write("a face with spaces, é and 表情.png", File.ReadAllBytes(reference)),
        ];
        using var scorer = _trained.Model.LastTransformer.CreateBatchScorer();

        var expected = scorer.ScoreFiles([reference]).Single().Score;
        var scores = scorer.ScoreFiles(variants).Select(p => p.Score).ToArray();

        Assert.All(scores.Zip(variants), pair =>
            Assert.True(MaxAbsDifference(expected, pair.First) <= 1e-5, $"{Path.GetFileName(pair.Second)} differs"));
    }

    [Fact]
    public void ACmykJpegScoresLikeTheSameGreysInRgb()
    {
        using var folder = new TemporaryFolder();
        var (width, height, grey) = GreyFace();
        int blocksWide = width / 8, blocksHigh = height / 8;
        byte Block(int row, int column) => (byte)Enumerable.Range(0, 64)
            .Average(i => grey[(8 * row + i / 8) * width + 8 * column + i % 8]);
        string cmyk = Path.Combine(folder.Path, "cmyk.jpg"), rgb = Path.Combine(folder.Path, "rgb.png");
        File.WriteAllBytes(cmyk, CmykJpegEncoder.FlatGreyBlocks(blocksWide, blocksHigh, Block));
        File.WriteAllBytes(rgb, PngEncoder.Encode(8 * blocksWide, 8 * blocksHigh, PngEncoder.Rgb, 8, y =>
            Enumerable.Range(0, 8 * blocksWide).SelectMany(x => Enumerable.Repeat(Block(y / 8, x / 8), 3)).ToArray()));
        using (var decoded = SKBitmap.Decode(cmyk))
        {
            // The four-component file decodes to the greys it was made from (CMYK converted, Adobe inversion honoured).
            Assert.Equal(new SKColor(Block(2, 3), Block(2, 3), Block(2, 3)), decoded.GetPixel(8 * 3 + 4, 8 * 2 + 4));
            Assert.Equal(new SKColor(Block(4, 1), Block(4, 1), Block(4, 1)), decoded.GetPixel(8 * 1 + 4, 8 * 4 + 4));
        }
        using var scorer = _trained.Model.LastTransformer.CreateBatchScorer();

        var scores = scorer.ScoreFiles([rgb, cmyk]).Select(p => p.Score).ToArray();

        Assert.True(MaxAbsDifference(scores[0], scores[1]) <= 1e-5, $"{MaxAbsDifference(scores[0], scores[1])}");
    }

    [Fact]
    public void OnePixelAndTenThousandPixelImagesAreResizedLikeAnyOther()
    {
        using var folder = new TemporaryFolder();
        string tiny = Path.Combine(folder.Path, "1x1.png"), huge = Path.Combine(folder.Path, "10000x10000.png");
        File.WriteAllBytes(tiny, PngEncoder.Encode(1, 1, PngEncoder.Grey, 8, _ => [128]));
        var row = Enumerable.Repeat((byte)128, 10_000).ToArray();
        File.WriteAllBytes(huge, PngEncoder.Encode(10_000, 10_000, PngEncoder.Grey, 8, _ => row));
        using var scorer = _trained.Model.LastTransformer.CreateBatchScorer();

        var predictions = scorer.ScoreFiles([tiny, huge]).ToArray();

        // Both are a uniform grey 128 once resized, so they must score the same.
        Assert.True(MaxAbsDifference(predictions[0].Score, predictions[1].Score) <= 1e-4);
        Assert.Equal(1.0, predictions[1].Score.Sum(), 4);
    }

    [Fact]
    public void UnreadableFilesFailWithTheFileNamedOrAreLeftOutAndCountedWhenAsked()
    {
        using var folder = new TemporaryFolder();
        var faces = HfferDataCatalog.ReadImageFolder(TestData.Train).Where((_, i) => i % 20 == 0).ToList();
        byte[] goodPng = File.ReadAllBytes(PngOf(faces[0].ImagePath, folder.Path));
        var broken = new Dictionary<string, byte[]?>
        {
            ["not-an-image.jpg"] = "this is a text file"u8.ToArray(),
            ["empty.png"] = [],
            ["header-only.png"] = goodPng[..33],
            ["missing.jpg"] = null,
        };
        foreach (var (name, bytes) in broken)
        {
            string path = Path.Combine(folder.Path, name);
            if (bytes is not null)
                File.WriteAllBytes(path, bytes);
            faces.Insert(faces.Count / 2, new ImageFolderRow { ImagePath = path, Label = "happy" });
        }
        var warnings = new List<string>();  // the Hffer channel's warnings and information
        var ml = new MLContext(1);
        ml.Log += (_, e) =>
        {
            if (e.Source == "Hffer" && e.Kind != Microsoft.ML.Runtime.ChannelMessageKind.Trace)
                lock (warnings)
                    warnings.Add(e.RawMessage);
        };
        var data = ml.Data.LoadFromEnumerable(faces);
        var skipping = Pipelines.QuickOptions();
        skipping.SkipUnreadableImages = true;

        var failure = Assert.Throws<InvalidDataException>(() => Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(data));
        using var model = Pipelines.Hffer(ml, skipping).Fit(data);
        using var scorer = model.LastTransformer.CreateBatchScorer();
        var scoring = Assert.Throws<InvalidDataException>(() =>
            scorer.ScoreFiles([faces[0].ImagePath, Path.Combine(folder.Path, "not-an-image.jpg")]).ToArray());

        var firstBroken = faces.Select((f, row) => (f.ImagePath, row)).First(f => broken.ContainsKey(Path.GetFileName(f.ImagePath)));
        Assert.StartsWith($"Row {firstBroken.row} of the training data: the image file '{firstBroken.ImagePath}' ",
            failure.Message);
        string left = Assert.Single(warnings, w => w.StartsWith("Left out", StringComparison.Ordinal));
        Assert.StartsWith($"Left out 4 of {faces.Count} training images that could not be read: ", left);
        Assert.All(broken.Keys, name => Assert.Contains(Path.Combine(folder.Path, name), left));
        Assert.Contains(warnings, w => w.Contains($") on {faces.Count - 4} images, 7 classes", StringComparison.Ordinal));
        Assert.Contains(Path.Combine(folder.Path, "not-an-image.jpg"), scoring.Message);
    }

    [Fact]
    public void TheBatchedScorerCanMarkUnreadableImagesAndScoreTheRestInPlace()
    {
        using var folder = new TemporaryFolder();
        var good = HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % 30 == 0).Select(f => f.ImagePath)
            .ToArray();
        string text = Path.Combine(folder.Path, "notes.jpg"), missing = Path.Combine(folder.Path, "gone.png");
        File.WriteAllText(text, "not an image");
        string[] paths = [good[0], text, good[1], missing, .. good[2..]];
        using var plain = _trained.Model.LastTransformer.CreateBatchScorer(new() { BatchSize = 2 });
        using var skipping = _trained.Model.LastTransformer.CreateBatchScorer(
            new() { BatchSize = 2, SkipUnreadableImages = true });

        var expected = plain.ScoreFiles(good).Select(p => p.Score).ToArray();
        var predictions = skipping.ScoreFiles(paths).ToArray();
        var fromView = skipping.Score(_trained.Model.Transform(new MLContext().Data.LoadFromEnumerable(
            paths.Select(p => new ImageFolderRow { ImagePath = p, Label = "happy" })))).ToArray();

        Assert.Equal(paths.Length, predictions.Length);
        Assert.StartsWith($"Image 1, '{text}', could not be read (", predictions[1].Error);
        Assert.StartsWith($"Image 3, '{missing}', could not be read (", predictions[3].Error);
        Assert.All(new[] { predictions[1], predictions[3] }, p =>
        {
            Assert.Empty(p.Score);
            Assert.Equal(-1, p.PredictedIndex);
        });
        var scored = predictions.Where(p => p.Error is null).ToArray();
        Assert.Equal(good.Length, scored.Length);
        Assert.True(MaxAbsDifference(expected.SelectMany(s => s).ToArray(), scored.SelectMany(p => p.Score).ToArray())
            <= 1e-6);
        Assert.StartsWith("Row 1 of the scored data could not be read (", fromView[1].Error);
        Assert.Throws<InvalidDataException>(() => plain.ScoreFiles(paths).ToArray());
    }

    [Fact]
    public void TrainingOnlyUnreadableImagesFailsEvenWhenSkipping()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "broken.jpg");
        File.WriteAllText(path, "not an image");
        var ml = new MLContext(1);
        var options = Pipelines.QuickOptions();
        options.SkipUnreadableImages = true;

        var error = Assert.Throws<InvalidDataException>(() => Pipelines.Hffer(ml, options)
            .Fit(ml.Data.LoadFromEnumerable([new ImageFolderRow { ImagePath = path, Label = "sad" }])));

        Assert.StartsWith($"None of the 1 training images could be read: {path} (row 0: ", error.Message);
    }

    [Fact]
    public void ExifOrientationIsNotAppliedAndATruncatedJpegScoresAsFarAsItDecodes()
    {
        using var folder = new TemporaryFolder();
        using var face = SKBitmap.Decode(HfferDataCatalog.ReadImageFolder(TestData.Test)[9].ImagePath);
        using var encoded = face.Encode(SKEncodedImageFormat.Jpeg, 95);
        byte[] jpeg = encoded.ToArray();
        string plain = Path.Combine(folder.Path, "plain.jpg"), rotated = Path.Combine(folder.Path, "rotated.jpg");
        string truncated = Path.Combine(folder.Path, "truncated.jpg");
        File.WriteAllBytes(plain, jpeg);
        File.WriteAllBytes(rotated, [.. jpeg[..2], .. ExifOrientation(6), .. jpeg[2..]]);
        File.WriteAllBytes(truncated, jpeg[..(jpeg.Length * 6 / 10)]);
        using var scorer = _trained.Model.LastTransformer.CreateBatchScorer();

        var scores = scorer.ScoreFiles([plain, rotated, truncated]).Select(p => p.Score).ToArray();

        using (var codec = SKCodec.Create(rotated))
            Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin);   // the tag is there and readable

        // Decided behaviour, as ML.NET's image loader does it: the stored pixels are scored, whatever the
        // orientation tag says (docs/columns.md tells users to rotate such photos first).
        Assert.True(MaxAbsDifference(scores[0], scores[1]) <= 1e-6);
        Assert.Equal(1.0, scores[2].Sum(), 4);
        Assert.True(MaxAbsDifference(scores[0], scores[2]) > 1e-4, "the missing rows must change the scores");
    }

    [Fact]
    public void ATruncatedModelZipFailsToLoadAndTheWholeOneStillLoads()
    {
        using var folder = new TemporaryFolder();
        var ml = new MLContext(1);
        string zip = Path.Combine(folder.Path, "model.zip"), cut = Path.Combine(folder.Path, "cut.zip");
        var schema = ml.Data.LoadFromEnumerable(HfferDataCatalog.ReadImageFolder(TestData.Test).Take(1)).Schema;
        ml.Model.Save(_trained.Model, schema, zip);
        byte[] whole = File.ReadAllBytes(zip);
        File.WriteAllBytes(cut, whole[..(whole.Length / 2)]);

        // Model.Load is ML.NET's: it refuses the damaged file with its own message, which docs/troubleshooting.md lists.
        var error = Assert.Throws<FormatException>(() => new MLContext().Model.Load(cut, out _));

        Assert.Equal("Failed to open a zip archive", error.Message);
        Assert.Equal(whole, File.ReadAllBytes(zip));
        Assert.NotNull(new MLContext().Model.Load(zip, out _));
    }

    [Fact]
    public void AMissingFileIsNamedAsMissing()
    {
        using var folder = new TemporaryFolder();
        string missing = Path.Combine(folder.Path, "no such face.jpg");
        var face = HfferDataCatalog.ReadImageFolder(TestData.Train)[0];
        var ml = new MLContext(1);

        var error = Assert.Throws<InvalidDataException>(() => Pipelines.Hffer(ml, Pipelines.QuickOptions())
            .Fit(ml.Data.LoadFromEnumerable([face, new ImageFolderRow { ImagePath = missing, Label = "sad" }])));

        Assert.Equal($"Row 1 of the training data: the image file '{missing}' does not exist.", error.Message);
    }

    /// <summary>An APP1 segment holding a little-endian TIFF header with one IFD entry: Orientation.</summary>
    private static byte[] ExifOrientation(ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0,
            1, 0,
            0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0,
            0, 0, 0, 0,
        ];
        byte[] body = [.. "Exif\0\0"u8, .. tiff];
        int length = body.Length + 2;
        return [0xff, 0xe1, (byte)(length >> 8), (byte)length, .. body];
    }

    /// <summary>A real face from the bundled set, as grey values.</summary>
    private static (int Width, int Height, byte[] Grey) GreyFace()
    {
        using var bitmap = SKBitmap.Decode(HfferDataCatalog.ReadImageFolder(TestData.Test)[5].ImagePath);
        var grey = new byte[bitmap.Width * bitmap.Height];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
                grey[y * bitmap.Width + x] = bitmap.GetPixel(x, y).Red;
        return (bitmap.Width, bitmap.Height, grey);
    }

    private static string PngOf(string imagePath, string folder)
    {
        using var bitmap = SKBitmap.Decode(imagePath);
        string path = Path.Combine(folder, Path.GetFileNameWithoutExtension(imagePath) + ".png");
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }
}

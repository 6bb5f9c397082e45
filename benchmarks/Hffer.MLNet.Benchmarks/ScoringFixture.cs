using Hffer.MLNet.Data;
using Hffer.MLNet.Devices;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using Hffer.MLNet.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// An untrained network of one preset (DINOv2 branch inside, random weights: speed does not depend on the values),
/// its exported graph, the fitted scoring chain and bundled faces, shared by the scoring benchmarks.
/// </summary>
internal sealed class ScoringFixture : IDisposable
{
    private static readonly string[] ClassNames = ["a", "b", "c", "d", "e", "f", "g"];

    private readonly HfferNetwork? _network;
    private readonly HfferTransformer? _transformer;

    /// <param name="preset">The network size.</param>
    /// <param name="images">How many bundled faces to load.</param>
    /// <param name="withTransformer">Whether to build the ML.NET chain (one ONNX Runtime session) and transformer.</param>
    /// <param name="keepNetwork">Whether to keep the TorchSharp network (and its weights) after export.</param>
    public ScoringFixture(HfferPreset preset, int images, bool withTransformer = true, bool keepNetwork = false)
    {
        TorchSharpRuntime.EnsureLoaded();
        torch.manual_seed(1);
        Context = new MLContext(1);
        Architecture = preset == HfferPreset.Paper ? HfferArchitecture.Paper : HfferArchitecture.Small;
        Faces = LoadFaces(Context, images);

        var network = new HfferNetwork(Architecture, ClassNames.Length);
        network.eval();
        var pipeline = new ScoringPipeline(Context.Transforms, new HfferOptions(), Architecture.InputSize, null);
        Onnx = HfferOnnxExporter.ExportToBytes(network, pipeline.ExportNames, ClassNames);
        if (keepNetwork)
            _network = network;
        else
            network.Dispose();
        if (withTransformer)
            _transformer = new HfferTransformer(pipeline.Build(Faces, Onnx, ClassNames, null), pipeline, Onnx, null,
                ClassNames, Architecture, [], null, DeviceRequest.Cpu, Context);

        Pixels = pipeline.Preprocessing().Fit(Faces).Transform(Faces)
            .GetColumn<float[]>(pipeline.Pixels.Name).SelectMany(p => p).ToArray();
        PixelsInput = pipeline.ExportNames.Pixels;
    }

    public MLContext Context { get; }

    public HfferArchitecture Architecture { get; }

    /// <summary>The faces with their image column loaded (decoded on each pass, as users' data is).</summary>
    public IDataView Faces { get; }

    public HfferNetwork Network => _network ?? throw new InvalidOperationException("Built without keepNetwork.");

    public byte[] Onnx { get; }

    public HfferTransformer Transformer =>
        _transformer ?? throw new InvalidOperationException("Built without withTransformer.");

    /// <summary>The faces' planar RGB 0-255 pixels at the network's input size, extracted by the chain.</summary>
    public float[] Pixels { get; }

    public string PixelsInput { get; }

    /// <summary>Disposes the sessions and weights, then gives the memory back for the next case.</summary>
    public void Dispose()
    {
        _transformer?.Dispose();
        _network?.Dispose();
        ProcessMemory.Release();
    }

    /// <summary>The first <paramref name="count"/> bundled test faces, with a key label and loaded images.</summary>
    public static IDataView LoadFaces(MLContext context, int count)
    {
        var rows = HfferDataCatalog.ReadImageFolder(BundledFaces()).Take(count).ToArray();
        var data = context.Data.LoadFromEnumerable(rows);
        return context.Transforms.Conversion.MapValueToKey("Label")
            .Append(context.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath"))
            .Fit(data).Transform(data);
    }

    private static string BundledFaces()
    {
        string folder = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(folder, "Hffer.MLNet.sln")))
            folder = Path.GetDirectoryName(folder.TrimEnd(Path.DirectorySeparatorChar))
                ?? throw new InvalidOperationException("Run the benchmarks from inside the repository.");
        return Path.Combine(folder, "samples", "data", "fer2013-mini", "test");
    }
}

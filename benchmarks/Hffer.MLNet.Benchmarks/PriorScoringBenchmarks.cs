using BenchmarkDotNet.Attributes;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Hffer.MLNet.Priors;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// Scoring 32 faces with the ResNet18 ONNX prior (small preset): the ML.NET chain (image decode and resize, two
/// chained <c>ApplyOnnxModel</c> steps, key mapping) against the same two ONNX Runtime sessions called directly on
/// pixels extracted beforehand, and against each part alone. The difference between the chain and the sum of its
/// parts is what chaining two ONNX steps through ML.NET costs, which is all a merged graph could save.
/// </summary>
[Config(typeof(ShortInProcessConfig))]
[MemoryDiagnoser]
public class PriorScoringBenchmarks
{
    private const int Images = 32;

    private MLContext _ml = null!;
    private IDataView _faces = null!;
    private ITransformer _chain = null!;
    private ITransformer _preprocessing = null!;
    private InferenceSession _prior = null!;
    private InferenceSession _network = null!;
    private List<(DenseTensor<float> Pixels, DenseTensor<float> PriorPixels)> _pixels = null!;

    [GlobalSetup]
    public void Setup()
    {
        Native.TorchSharpRuntime.EnsureLoaded();
        TorchSharp.torch.manual_seed(1);
        _ml = new MLContext(1);
        _faces = ScoringFixture.LoadFaces(_ml, Images);

        using var prior = OnnxPrior.Load(OnnxFeaturizerPrior.ResNet18());
        using var network = new HfferNetwork(HfferArchitecture.Small, 7, prior.MapShape);
        network.eval();
        var options = new HfferOptions();
        var pipeline = new ScoringPipeline(_ml.Transforms, options, 112, prior.InputSize);
        string[] classes = ["a", "b", "c", "d", "e", "f", "g"];
        byte[] onnx = HfferOnnxExporter.ExportToBytes(network, pipeline.ExportNames, classes);
        _chain = pipeline.Build(_faces, onnx, classes, prior.Model);
        _preprocessing = pipeline.Preprocessing().Fit(_faces);
        _prior = new InferenceSession(prior.Model);
        _network = new InferenceSession(onnx);

        var extracted = _preprocessing.Transform(_faces);
        var pixels = extracted.GetColumn<float[]>(pipeline.Pixels.Name).ToArray();
        var priorPixels = extracted.GetColumn<float[]>(pipeline.PriorPixels!.Value.Name).ToArray();
        _pixels = pixels.Zip(priorPixels, (p, q) =>
            (new DenseTensor<float>(p, [1, 3, 112, 112]), new DenseTensor<float>(q, [1, 3, 224, 224]))).ToList();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        (_chain as IDisposable)?.Dispose();
        _prior.Dispose();
        _network.Dispose();
        ProcessMemory.Release();
    }

    /// <summary>What users call: <c>Transform</c> and a cursor over the scores.</summary>
    [Benchmark(Baseline = true)]
    public float MLNetChain() => _chain.Transform(_faces).GetColumn<float[]>("Score").Sum(s => s[0]);

    /// <summary>The chain's image decoding, resizing and pixel extraction alone.</summary>
    [Benchmark]
    public float MLNetPreprocessingOnly() =>
        _preprocessing.Transform(_faces).GetColumn<float[]>("HfferPixels").Sum(p => p[0]);

    /// <summary>Both ONNX Runtime sessions called directly, one image at a time, on extracted pixels.</summary>
    [Benchmark]
    public float RawSessions()
    {
        float sum = 0;
        foreach (var (pixels, priorPixels) in _pixels)
        {
            using var map = RunPrior(priorPixels);
            var inputs = new[]
            {
                NamedOnnxValue.CreateFromTensor("HfferPixels", pixels),
                NamedOnnxValue.CreateFromTensor(OnnxPriorGraph.MapOutput, map[0].AsTensor<float>()),
            };
            using var scores = _network.Run(inputs, ["Score"]);
            sum += scores[0].AsEnumerable<float>().First();
        }
        return sum;
    }

    /// <summary>The ResNet18 prior session alone.</summary>
    [Benchmark]
    public float PriorSessionOnly()
    {
        float sum = 0;
        foreach (var (_, priorPixels) in _pixels)
        {
            using var map = RunPrior(priorPixels);
            sum += map[0].AsEnumerable<float>().First();
        }
        return sum;
    }

    private IDisposableReadOnlyCollection<DisposableNamedOnnxValue> RunPrior(DenseTensor<float> priorPixels) =>
        _prior.Run([NamedOnnxValue.CreateFromTensor(OnnxPriorGraph.PixelsInput, priorPixels)],
            [OnnxPriorGraph.MapOutput]);
}

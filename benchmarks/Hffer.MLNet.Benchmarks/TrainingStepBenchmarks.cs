using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using Hffer.MLNet.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// One training step (forward, hybrid loss, backward, Adam) of the same batch with the frozen branch's tokens
/// read from the feature cache versus computed by the frozen branch, and the frozen forward alone (what filling the
/// cache costs per batch). Ratios are taken within one run; an epoch is a fixed number of such steps.
/// </summary>
/// <remarks>
/// GFLOP/s counts a step as the trainable part's forward FLOPs three times (backward costs about twice the
/// forward) plus the frozen branch's forward once when it is computed; the optimizer's elementwise work is left out.
/// </remarks>
/// <remarks>
/// In-process, so libtorch loads from this program's output; one launch with few iterations, because a paper-preset
/// step takes seconds on a CPU.
/// </remarks>
[Config(typeof(ThroughputConfig<TrainingStepBenchmarks>))]
[MemoryDiagnoser]
public class TrainingStepBenchmarks : IWorkload
{
    private const int MatmulSide = 2048;

    private HfferNetwork _network = null!;
    private OptimizerHelper _optimizer = null!;
    private HybridLoss _loss = null!;
    private PriorFeatureCache _cache = null!;
    private ImageSet _images = null!;
    private int[] _batch = null!;
    private Tensor _targets = null!;
    private Tensor _left = null!;
    private Tensor _right = null!;

    /// <summary>The network size.</summary>
    [Params(HfferPreset.Paper, HfferPreset.Small)]
    public HfferPreset Preset { get; set; }

    /// <summary>Images per step.</summary>
    [Params(8)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchSharpRuntime.EnsureLoaded();
        manual_seed(1);
        var architecture = Preset == HfferPreset.Paper ? HfferArchitecture.Paper : HfferArchitecture.Small;
        _network = new HfferNetwork(architecture, classCount: 7);
        _network.train();
        _optimizer = optim.Adam(_network.TrainableParameters(), 4e-5);
        _loss = new HybridLoss(0.2, 0.67);

        var pixels = new byte[BatchSize * 3 * architecture.InputSize * architecture.InputSize];
        new Random(1).NextBytes(pixels);
        _images = new ImageSet(pixels, Enumerable.Range(0, BatchSize).Select(i => i % 7).ToArray(),
            architecture.InputSize);
        _batch = Enumerable.Range(0, BatchSize).ToArray();
        _targets = _images.Targets(_batch, CPU);
        var source = new Dinov2FeatureSource(_network, CPU);
        var store = new MemoryFeatureStore(BatchSize, source.FeatureLength);
        _cache = PriorFeatureCache.Fill(source, _images, withMirrors: false, store,
            architecture.TokenGrid * architecture.TokenGrid, "the batch", _ => { }, CancellationToken.None);
        _left = randn(MatmulSide, MatmulSide);
        _right = randn(MatmulSide, MatmulSide);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _targets.Dispose();
        _left.Dispose();
        _right.Dispose();
        _optimizer.Dispose();
        _network.Dispose();
        ProcessMemory.Release();
    }

    /// <summary>A step that runs the frozen branch, as training without the cache does.</summary>
    [Benchmark(Baseline = true)]
    public float StepComputingPrior()
    {
        using var scope = NewDisposeScope();
        var image = ImageNormalization.Apply(_images.Pixels(_batch, CPU));
        return Step(image, _network.PriorTokens(image));
    }

    /// <summary>A step that reads the frozen branch's tokens from the cache.</summary>
    [Benchmark]
    public float StepReadingCache()
    {
        using var scope = NewDisposeScope();
        var image = ImageNormalization.Apply(_images.Pixels(_batch, CPU));
        return Step(image, _cache.Tokens(_batch, null, CPU));
    }

    /// <summary>The frozen branch alone on the batch: the one-off cost of caching it, per variant.</summary>
    [Benchmark]
    public long FrozenForwardOnly()
    {
        using var scope = NewDisposeScope();
        var image = ImageNormalization.Apply(_images.Pixels(_batch, CPU));
        return _network.PriorTokens(image).shape[0];
    }

    /// <summary>The reference: a 2048 x 2048 float32 matrix product with TorchSharp (libtorch's BLAS).</summary>
    [Benchmark]
    public float Matmul()
    {
        using var scope = NewDisposeScope();
        return _left.mm(_right)[0, 0].item<float>();
    }

    /// <inheritdoc />
    public static (double Flops, int Images)? Work(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(Matmul))
            return (2.0 * MatmulSide * MatmulSide * MatmulSide, 0);

        var preset = (HfferPreset)benchmarkCase.Parameters[nameof(Preset)]!;
        int images = (int)benchmarkCase.Parameters[nameof(BatchSize)]!;
        double frozen = NetworkFlops.Frozen(preset), trainable = NetworkFlops.PerImage(preset) - frozen;
        double perImage = benchmarkCase.Descriptor.WorkloadMethod.Name switch
        {
            nameof(StepComputingPrior) => 3 * trainable + frozen,
            nameof(StepReadingCache) => 3 * trainable,
            _ => frozen,
        };
        return (images * perImage, images);
    }

    private float Step(Tensor image, Tensor prior)
    {
        var value = _loss.Compute(_network.Classify(image, prior), _targets);
        _optimizer.zero_grad();
        value.backward();
        _optimizer.step();
        return value.item<float>();
    }
}

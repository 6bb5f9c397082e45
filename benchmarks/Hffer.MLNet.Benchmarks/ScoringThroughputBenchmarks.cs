using BenchmarkDotNet.Attributes;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// Scoring throughput of one batch of bundled faces, four ways over the same network and weights: the fitted
/// transformer through ML.NET (<c>Transform</c> and a cursor, one ONNX Runtime call per row), our batched scorer
/// (images decoded by the same ML.NET components, one call per batch), a raw ONNX Runtime session on pixels
/// extracted beforehand, and TorchSharp's eval-mode forward on the same pixels; plus a large float32 matrix
/// product, the machine's reference rate, measured in the same run.
/// </summary>
/// <remarks>
/// Every scoring method handles <see cref="BatchSize"/> images per invocation, so images/s is the batch size over
/// the mean time (the Images/s column); GFLOP/s uses the network's forward FLOPs per image from
/// <c>NetworkCost</c>, and "Of matmul" divides it by the matrix product's rate measured for the same parameters.
/// </remarks>
[Config(typeof(ThroughputConfig<ScoringThroughputBenchmarks>))]
[MemoryDiagnoser]
public class ScoringThroughputBenchmarks : IWorkload
{
    private const int MatmulSide = 2048;

    private ScoringFixture? _fixture;
    private HfferBatchScorer? _scorer;
    private InferenceSession? _session;
    private Tensor? _pixels;
    private Tensor? _left;
    private Tensor? _right;

    private ScoringFixture Fixture => _fixture ?? throw new InvalidOperationException("Not set up.");

    /// <summary>The network size.</summary>
    [Params(HfferPreset.Paper, HfferPreset.Small)]
    public HfferPreset Preset { get; set; }

    /// <summary>Images per invocation, and per ONNX Runtime call where the path batches.</summary>
    [Params(1, 8, 32)]
    public int BatchSize { get; set; }

    [GlobalSetup(Target = nameof(MLNetTransform))]
    public void SetupTransform() => _fixture = new ScoringFixture(Preset, BatchSize);

    [GlobalSetup(Target = nameof(BatchScorer))]
    public void SetupBatchScorer()
    {
        _fixture = new ScoringFixture(Preset, BatchSize);
        _scorer = Fixture.Transformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = BatchSize });
    }

    [GlobalSetup(Target = nameof(RawOnnxRuntime))]
    public void SetupRawOnnxRuntime()
    {
        _fixture = new ScoringFixture(Preset, BatchSize, withTransformer: false);
        _session = new InferenceSession(Fixture.Onnx);
    }

    [GlobalSetup(Target = nameof(TorchSharpForward))]
    public void SetupTorchSharp()
    {
        _fixture = new ScoringFixture(Preset, BatchSize, withTransformer: false, keepNetwork: true);
        int side = Fixture.Architecture.InputSize;
        _pixels = tensor(Fixture.Pixels, [BatchSize, 3, side, side]);
    }

    [GlobalSetup(Target = nameof(Matmul))]
    public void SetupMatmul()
    {
        Native.TorchSharpRuntime.EnsureLoaded();
        _left = randn(MatmulSide, MatmulSide);
        _right = randn(MatmulSide, MatmulSide);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scorer?.Dispose();
        _session?.Dispose();
        _pixels?.Dispose();
        _left?.Dispose();
        _right?.Dispose();
        _fixture?.Dispose();
        (_scorer, _session, _pixels, _left, _right, _fixture) = (null, null, null, null, null, null);
        ProcessMemory.Release();
    }

    /// <summary>(a) What ML.NET users call: <c>Transform</c> and a cursor over the scores.</summary>
    [Benchmark]
    public float MLNetTransform() => Fixture.Transformer.Transform(Fixture.Faces).GetColumn<float[]>("Score")
        .Sum(s => s[0]);

    /// <summary>(b) Our batched scorer on the same image column.</summary>
    [Benchmark]
    public float BatchScorer() => _scorer!.Score(Fixture.Faces).Sum(p => p.Score[0]);

    /// <summary>(c) One raw ONNX Runtime call on the whole batch of extracted pixels, default session options.</summary>
    [Benchmark(Baseline = true)]
    public float RawOnnxRuntime()
    {
        int side = Fixture.Architecture.InputSize;
        using var pixels = OrtValue.CreateTensorValueFromMemory(Fixture.Pixels, [BatchSize, 3, side, side]);
        using var run = new RunOptions();
        using var outputs = _session!.Run(run, [Fixture.PixelsInput], [pixels], ["Score"]);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }

    /// <summary>(d) TorchSharp's eval-mode forward of the same network on the same pixels, no gradients.</summary>
    [Benchmark]
    public float TorchSharpForward()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Fixture.Network.call(ImageNormalization.Apply(_pixels!)).softmax(1)[0, 0].item<float>();
    }

    /// <summary>The reference: a 2048 x 2048 float32 matrix product with TorchSharp (libtorch's BLAS).</summary>
    [Benchmark]
    public float Matmul()
    {
        using var product = _left!.mm(_right!);
        return product[0, 0].item<float>();
    }

    /// <inheritdoc />
    public static (double Flops, int Images)? Work(BenchmarkDotNet.Running.BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(Matmul))
            return (2.0 * MatmulSide * MatmulSide * MatmulSide, 0);

        var preset = (HfferPreset)benchmarkCase.Parameters[nameof(Preset)]!;
        int images = (int)benchmarkCase.Parameters[nameof(BatchSize)]!;
        return (images * NetworkFlops.PerImage(preset), images);
    }
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Microsoft.ML.OnnxRuntime;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// ONNX Runtime session settings on the exported graph, one batch of extracted pixels per call: the default
/// (every graph optimization, one intra-operator thread per physical core, CPU memory arena and memory pattern on)
/// against lower optimization levels, a single thread, no arena and the parallel execution mode. The batch scorer
/// keeps whatever wins here.
/// </summary>
[Config(typeof(ThroughputConfig<SessionTuningBenchmarks>))]
[MemoryDiagnoser]
public class SessionTuningBenchmarks : IWorkload
{
    private ScoringFixture _fixture = null!;
    private readonly Dictionary<string, InferenceSession> _sessions = [];

    /// <summary>The network size; the batch is 8 paper-preset or 32 small-preset images (about the same work).</summary>
    [Params(HfferPreset.Paper, HfferPreset.Small)]
    public HfferPreset Preset { get; set; }

    private int BatchSize => BatchFor(Preset);

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new ScoringFixture(Preset, BatchSize, withTransformer: false);
        Open(nameof(Default), _ => { });
        Open(nameof(ExtendedOptimization), o => o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        Open(nameof(BasicOptimization), o => o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC);
        Open(nameof(NoOptimization), o => o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL);
        Open(nameof(OneThread), o => o.IntraOpNumThreads = 1);
        Open(nameof(NoArena), o =>
        {
            o.EnableCpuMemArena = false;
            o.EnableMemoryPattern = false;
        });
        Open(nameof(ParallelExecution), o => o.ExecutionMode = ExecutionMode.ORT_PARALLEL);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var session in _sessions.Values)
            session.Dispose();
        _sessions.Clear();
        _fixture.Dispose();
    }

    /// <summary>ONNX Runtime's defaults, which the batch scorer uses.</summary>
    [Benchmark(Baseline = true)]
    public float Default() => Score(nameof(Default));

    /// <summary>Graph optimization up to the extended level (no layout transformations).</summary>
    [Benchmark]
    public float ExtendedOptimization() => Score(nameof(ExtendedOptimization));

    /// <summary>Basic graph optimization only (constant folding, redundant node removal).</summary>
    [Benchmark]
    public float BasicOptimization() => Score(nameof(BasicOptimization));

    /// <summary>No graph optimization.</summary>
    [Benchmark]
    public float NoOptimization() => Score(nameof(NoOptimization));

    /// <summary>One intra-operator thread.</summary>
    [Benchmark]
    public float OneThread() => Score(nameof(OneThread));

    /// <summary>No CPU memory arena and no memory pattern planning.</summary>
    [Benchmark]
    public float NoArena() => Score(nameof(NoArena));

    /// <summary>Independent branches of the graph (IR50 and DINOv2) run in parallel.</summary>
    [Benchmark]
    public float ParallelExecution() => Score(nameof(ParallelExecution));

    /// <inheritdoc />
    public static (double Flops, int Images)? Work(BenchmarkCase benchmarkCase)
    {
        var preset = (HfferPreset)benchmarkCase.Parameters[nameof(Preset)]!;
        int images = BatchFor(preset);
        return (images * NetworkFlops.PerImage(preset), images);
    }

    private static int BatchFor(HfferPreset preset) => preset == HfferPreset.Paper ? 8 : 32;

    private void Open(string name, Action<SessionOptions> configure)
    {
        using var options = new SessionOptions();
        configure(options);
        _sessions[name] = new InferenceSession(_fixture.Onnx, options);
    }

    private float Score(string session)
    {
        int side = _fixture.Architecture.InputSize;
        using var pixels = OrtValue.CreateTensorValueFromMemory(_fixture.Pixels, [BatchSize, 3, side, side]);
        using var run = new RunOptions();
        using var outputs = _sessions[session].Run(run, [_fixture.PixelsInput], [pixels], ["Score"]);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }
}

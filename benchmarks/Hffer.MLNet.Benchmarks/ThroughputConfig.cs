using BenchmarkDotNet.Configs;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// <see cref="ShortInProcessConfig"/> plus images/s, GFLOP/s, the fraction of the measured matrix-product rate and
/// peak process memory for the cases of <typeparamref name="T"/>.
/// </summary>
internal sealed class ThroughputConfig<T> : ManualConfig where T : IWorkload
{
    public ThroughputConfig()
    {
        Add(new ShortInProcessConfig());
        AddColumn(ThroughputColumn<T>.ImagesPerSecond, ThroughputColumn<T>.Gflops, ThroughputColumn<T>.OfMatmul);
        AddDiagnoser(new PeakMemoryDiagnoser());
    }
}

using BenchmarkDotNet.Running;

namespace Hffer.MLNet.Benchmarks;

/// <summary>A benchmark class that can say how much work one invocation of each of its cases does.</summary>
public interface IWorkload
{
    /// <summary>
    /// Floating-point operations and images of one invocation of <paramref name="benchmarkCase"/>; null when the
    /// case has no such measure. A case with no images is the reference matrix product.
    /// </summary>
    static abstract (double Flops, int Images)? Work(BenchmarkCase benchmarkCase);
}

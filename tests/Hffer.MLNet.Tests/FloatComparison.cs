namespace Hffer.MLNet.Tests;

/// <summary>Element-wise comparisons of float outputs from two implementations.</summary>
internal static class FloatComparison
{
    /// <summary>The largest |a[i] - b[i]|.</summary>
    public static double MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    /// <summary>Equality within <paramref name="tolerance"/>, for <c>Assert.Equal</c> on sequences.</summary>
    public static IEqualityComparer<float> Within(float tolerance) => new Tolerance(tolerance);

    private sealed class Tolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float value) => 0;
    }
}

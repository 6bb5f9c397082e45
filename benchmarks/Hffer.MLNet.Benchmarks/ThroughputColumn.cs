using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// A column derived from a case's mean time and its work (<see cref="IWorkload"/>): images/s, achieved GFLOP/s, or
/// that rate as a fraction of the reference matrix product's in the same summary.
/// </summary>
internal sealed class ThroughputColumn<T> : IColumn where T : IWorkload
{
    private const string MatmulMethod = "Matmul";

    private readonly Func<Summary, BenchmarkCase, double?> _value;
    private readonly string _format;

    private ThroughputColumn(string name, string legend, string format, Func<Summary, BenchmarkCase, double?> value)
    {
        ColumnName = name;
        Legend = legend;
        _format = format;
        _value = value;
    }

    public static ThroughputColumn<T> ImagesPerSecond { get; } = new("Images/s",
        "Images scored or trained per second (images per invocation over the mean time)", "N1",
        (summary, c) => T.Work(c) is { Images: > 0 } work && Seconds(summary, c) is { } s ? work.Images / s : null);

    public static ThroughputColumn<T> Gflops { get; } = new("GFLOP/s",
        "Floating-point operations per second achieved, from the network's counted FLOPs (multiply-add = 2)", "N1",
        (summary, c) => Rate(summary, c));

    public static ThroughputColumn<T> OfMatmul { get; } = new("Of matmul",
        "GFLOP/s as a fraction of the 2048x2048 float32 matrix product's rate measured in the same run", "P1",
        (summary, c) => c.Descriptor.WorkloadMethod.Name != MatmulMethod && Rate(summary, c) is { } rate &&
            MatmulRate(summary, c) is { } matmul ? rate / matmul : null);

    public string Id => nameof(ThroughputColumn<T>) + "." + ColumnName;

    public string ColumnName { get; }

    public string Legend { get; }

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        _value(summary, benchmarkCase)?.ToString(_format) ?? "-";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        GetValue(summary, benchmarkCase);

    public override string ToString() => ColumnName;

    private static double? Seconds(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean / 1e9;

    private static double? Rate(Summary summary, BenchmarkCase benchmarkCase) =>
        T.Work(benchmarkCase) is { } work && Seconds(summary, benchmarkCase) is { } seconds
            ? work.Flops / seconds / 1e9
            : null;

    /// <summary>The matrix product's rate for the same parameters, or the mean over the summary's products.</summary>
    private static double? MatmulRate(Summary summary, BenchmarkCase benchmarkCase)
    {
        var products = summary.BenchmarksCases.Where(c => c.Descriptor.WorkloadMethod.Name == MatmulMethod).ToList();
        var same = products.FirstOrDefault(c => c.Parameters.DisplayInfo == benchmarkCase.Parameters.DisplayInfo);
        var rates = (same is null ? products : [same]).Select(c => Rate(summary, c)).OfType<double>().ToList();
        return rates.Count > 0 ? rates.Average() : null;
    }
}

using BenchmarkDotNet.Analysers;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Validators;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// Peak resident memory of the process during each case's measured iterations, native memory included (libtorch and
/// ONNX Runtime allocate outside the managed heap, which <c>MemoryDiagnoser</c> cannot see). On Linux the kernel's
/// peak (VmHWM) is reset before the run by writing 5 to /proc/self/clear_refs; elsewhere the process's lifetime
/// peak is reported, which only grows.
/// </summary>
/// <remarks>Meaningful with the in-process toolchain, where the host's signals arrive in the measured process.</remarks>
internal sealed class PeakMemoryDiagnoser : IDiagnoser
{
    private readonly Dictionary<BenchmarkCase, long> _peaks = [];

    public IEnumerable<string> Ids => [nameof(PeakMemoryDiagnoser)];

    public IEnumerable<IExporter> Exporters => [];

    public IEnumerable<IAnalyser> Analysers => [];

    public RunMode GetRunMode(BenchmarkCase benchmarkCase) => RunMode.NoOverhead;

    public void Handle(HostSignal signal, DiagnoserActionParameters parameters)
    {
        if (signal == HostSignal.BeforeActualRun && OperatingSystem.IsLinux())
            File.WriteAllText("/proc/self/clear_refs", "5");
        else if (signal == HostSignal.AfterActualRun)
            _peaks[parameters.BenchmarkCase] = PeakBytes();
    }

    public IEnumerable<Metric> ProcessResults(DiagnoserResults results) =>
        _peaks.TryGetValue(results.BenchmarkCase, out long peak) ? [new Metric(PeakDescriptor.Instance, peak)] : [];

    public void DisplayResults(ILogger logger)
    {
    }

    public IEnumerable<ValidationError> Validate(ValidationParameters validationParameters) => [];

    private static long PeakBytes()
    {
        if (!OperatingSystem.IsLinux())
            return System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64;
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    private sealed class PeakDescriptor : IMetricDescriptor
    {
        public static PeakDescriptor Instance { get; } = new();

        public string Id => "PeakMemory";

        public string DisplayName => "Peak RSS";

        public string Legend => "Peak resident memory of the process during the measured iterations (native included)";

        public string NumberFormat => "N0";

        public UnitType UnitType => UnitType.Size;

        public string Unit => "B";

        public bool TheGreaterTheBetter => false;

        public int PriorityInCategory => 0;

        public bool GetIsAvailable(Metric metric) => true;
    }
}

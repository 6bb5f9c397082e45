// Measures the exported HFFER graph with ONNX Runtime's CUDA execution provider; see measure-cuda.sh.

using System.Diagnostics;
using Hffer.MLNet;
using Hffer.MLNet.CudaScoring;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using Hffer.MLNet.Onnx;
using Microsoft.ML.OnnxRuntime;

CudaScoringSettings settings;
try
{
    settings = CudaScoringSettings.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

TorchSharpRuntime.EnsureLoaded();
TorchSharp.torch.manual_seed(1);
var architecture = settings.Preset == HfferPreset.Paper ? HfferArchitecture.Paper : HfferArchitecture.Small;
using var network = new HfferNetwork(architecture, classCount: 7);
network.eval();
var names = new OnnxExportNames("HfferPixels", "Score", "HfferPredictedIndex");
byte[] model = settings.OnnxPath is { } path ? File.ReadAllBytes(path) : HfferOnnxExporter.ExportToBytes(network, names);
double flopsPerImage = NetworkCost.Measure(network).Sum(p => p.ForwardFlops);

if (SessionSettings(settings) is not var (options, device))
    return 3;
using (options)
{
    using var session = new InferenceSession(model, options);
    using var runOptions = new RunOptions();
    string input = session.InputMetadata.Keys.Single();
    int side = architecture.InputSize;
    double matmul = MatmulRate(options, device.StartsWith("CUDA", StringComparison.Ordinal) ? 4096 : 2048,
        settings.Seconds);

    Console.WriteLine($"HFFER {settings.Preset} preset ({side} px, {flopsPerImage / 1e9:N2} GFLOP per image), " +
        $"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {device}; float32 matmul {matmul:N0} GFLOP/s");
    Console.WriteLine();
    Console.WriteLine("| batch | images/s | ms per batch | GFLOP/s | of matmul |");
    Console.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
    var random = new Random(1);
    foreach (int batch in settings.Batches)
    {
        var pixels = new float[batch * 3 * side * side];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = random.Next(256);
        using var value = OrtValue.CreateTensorValueFromMemory(pixels, [batch, 3, side, side]);
        double seconds;
        try
        {
            seconds = SecondsPerRun(() => session.Run(runOptions, [input], [value], ["Score"]).Dispose(),
                settings.Seconds);
        }
        catch (OnnxRuntimeException e)
        {
            Console.WriteLine($"| {batch} | failed: {e.Message.Split('\n')[0]} | | | |");
            break;
        }

        double gflops = batch * flopsPerImage / seconds / 1e9;
        Console.WriteLine(
            $"| {batch} | {batch / seconds:N1} | {seconds * 1e3:N1} | {gflops:N1} | {gflops / matmul:P1} |");
    }
}
return 0;

// The CUDA execution provider on the device asked for; the CPU only when --allow-cpu says so, else null.
static (SessionOptions Options, string Device)? SessionSettings(CudaScoringSettings settings)
{
    try
    {
        return (SessionOptions.MakeSessionOptionWithCudaProvider(settings.Device), $"CUDA device {settings.Device}");
    }
    catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException)
    {
        string reason = $"ONNX Runtime's CUDA execution provider is unavailable: {e.Message.Split('\n')[0]}";
        if (!settings.AllowCpu)
        {
            Console.Error.WriteLine(reason + ". It needs an NVIDIA driver and the CUDA 13 and cuDNN 9 libraries " +
                "(libcudart, libcublasLt, libcudnn) on the library path; pass --allow-cpu to measure the CPU instead.");
            return null;
        }
        Console.Error.WriteLine(reason + "; measuring the CPU.");
        return (new SessionOptions(), $"CPU ({Environment.ProcessorCount} logical cores)");
    }
}

// Seconds per call: two warm-up calls, then calls until the budget is spent (three at least).
static double SecondsPerRun(Action run, double budgetSeconds)
{
    run();
    run();
    var watch = Stopwatch.StartNew();
    int runs = 0;
    while (runs < 3 || watch.Elapsed.TotalSeconds < budgetSeconds)
    {
        run();
        runs++;
    }
    return watch.Elapsed.TotalSeconds / runs;
}

// The reference rate: a square float32 MatMul graph on the same execution provider.
static double MatmulRate(SessionOptions options, int side, double budgetSeconds)
{
    var graph = new OnnxGraphBuilder();
    string left = graph.Input("A", OnnxDataType.Float, (long)side, (long)side);
    string right = graph.Input("B", OnnxDataType.Float, (long)side, (long)side);
    graph.Output(graph.MatMul(left, right), "C", OnnxDataType.Float, (long)side, (long)side);
    using var stream = new MemoryStream();
    graph.Build("matmul").WriteTo(stream);
    using var session = new InferenceSession(stream.ToArray(), options);

    var values = Enumerable.Range(0, side * side).Select(i => (float)Math.Sin(i)).ToArray();
    using var a = OrtValue.CreateTensorValueFromMemory(values, [side, side]);
    using var b = OrtValue.CreateTensorValueFromMemory(values, [side, side]);
    using var runOptions = new RunOptions();
    double seconds = SecondsPerRun(() => session.Run(runOptions, ["A", "B"], [a, b], ["C"]).Dispose(),
        budgetSeconds);
    return 2.0 * side * side * side / seconds / 1e9;
}

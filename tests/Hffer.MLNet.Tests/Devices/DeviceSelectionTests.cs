using Hffer.MLNet.Devices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Hffer.MLNet.Tests.Devices;

/// <summary>
/// GPU requests on a machine with the CPU builds of TorchSharp and ONNX Runtime (this machine, and CI): where the
/// request comes from, what falls back, and what is refused before any training.
/// </summary>
[Collection("Torch")]
public class DeviceSelectionTests
{
    private const string NoOnnxCuda = "ONNX Runtime cannot score on it: the application's ONNX Runtime package has " +
        "no CUDA execution provider (reference Microsoft.ML.OnnxRuntime.Gpu.Linux (Linux) or " +
        "Microsoft.ML.OnnxRuntime.Gpu (Windows) instead of Microsoft.ML.OnnxRuntime).";

    private const string NoTorchCuda = "TorchSharp cannot train on it: it found no CUDA build of libtorch or no CUDA " +
        "device (reference TorchSharp-cuda-linux (Linux) or TorchSharp-cuda-windows (Windows) instead of " +
        "TorchSharp-cpu, with a matching NVIDIA driver).";

    [Fact]
    public void EstimatorSettingsOverrideTheContextsAndUnsetOnesInheritThem()
    {
        var gpuContext = new MLContext { GpuDeviceId = 1, FallbackToCpu = true };

        var inherited = DeviceRequest.Of(null, null, gpuContext, "HfferOptions");
        var overridden = DeviceRequest.Of(0, false, gpuContext, "HfferOptions");
        var fallbackOnly = DeviceRequest.Of(2, null, new MLContext(), "HfferOptions");

        Assert.Equal(new DeviceRequest(1, true, "MLContext.GpuDeviceId"), inherited);
        Assert.Equal(new DeviceRequest(0, false, "HfferOptions.GpuDeviceId"), overridden);
        Assert.Equal(new DeviceRequest(2, false, "HfferOptions.GpuDeviceId"), fallbackOnly);
        Assert.Null(DeviceRequest.Of(null, null, new MLContext(), "HfferOptions").GpuDeviceId);
    }

    [Fact]
    public void WithoutFallbackBothMissingBackendsAreNamedInOneMessage()
    {
        if (CudaWorks())
            return;
        var warnings = new List<string>();

        var error = Assert.Throws<InvalidOperationException>(() => DeviceSelection.Resolve(
            new DeviceRequest(0, false, "MLContext.GpuDeviceId"), needsTraining: true, warnings.Add));
        var scoringOnly = Assert.Throws<InvalidOperationException>(() => DeviceSelection.Resolve(
            new DeviceRequest(0, false, "X.GpuDeviceId"), needsTraining: false, warnings.Add));
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => DeviceSelection.Resolve(
            new DeviceRequest(-1, true, "X.GpuDeviceId"), needsTraining: true, warnings.Add));

        Assert.Equal($"MLContext.GpuDeviceId is 0, but {NoTorchCuda} {NoOnnxCuda} Set FallbackToCpu to use the CPU " +
            "instead. Nothing was trained.", error.Message);
        Assert.Equal($"X.GpuDeviceId is 0, but {NoOnnxCuda} Set FallbackToCpu to use the CPU instead.",
            scoringOnly.Message);
        Assert.Equal("X.GpuDeviceId", negative.ParamName);
        Assert.Empty(warnings);
    }

    [Fact]
    public void WithFallbackEachBackendThatCannotUseTheGpuWarnsAndRunsOnTheCpu()
    {
        if (CudaWorks())
            return;
        var warnings = new List<string>();

        var selection = DeviceSelection.Resolve(new DeviceRequest(0, true, "HfferOptions.GpuDeviceId"),
            needsTraining: true, warnings.Add);

        Assert.Equal(TorchSharp.DeviceType.CPU, selection.Training.type);
        Assert.Null(selection.ScoringGpuDeviceId);
        Assert.Equal(
        [
            $"HfferOptions.GpuDeviceId is 0, but {NoTorchCuda} Training on the CPU (FallbackToCpu is set).",
            $"HfferOptions.GpuDeviceId is 0, but {NoOnnxCuda} Scoring on the CPU (FallbackToCpu is set); loading a " +
                "saved model into an MLContext that asks for this GPU fails the same way.",
        ], warnings);
    }

    [Fact]
    public void ContextGpuWithFallbackTrainsAndScoresOnTheCpuAndSaysWhy()
    {
        if (CudaWorks())
            return;
        var ml = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = true };
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Warning && e.Source == "Hffer")
                warnings.Add(e.RawMessage);
        };
        var training = Pipelines.TrainingSubset(ml, step: 20);

        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(training);
        var scores = model.Transform(training).GetColumn<float[]>("Score").ToArray();

        Assert.Equal(14, scores.Length);
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 4));
        Assert.Contains(warnings, w => w.StartsWith("MLContext.GpuDeviceId is 0, but " + NoOnnxCuda,
            StringComparison.Ordinal));
    }

    [Fact]
    public void ContextGpuWithoutFallbackIsRefusedBeforeTheFirstEpoch()
    {
        if (CudaWorks())
            return;
        var ml = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = false };
        int epochs = 0;
        var options = Pipelines.QuickOptions();
        options.EpochCompleted = _ => epochs++;

        var error = Assert.Throws<InvalidOperationException>(() =>
            Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, step: 20)));

        Assert.StartsWith("MLContext.GpuDeviceId is 0, but " + NoTorchCuda, error.Message);
        Assert.EndsWith("Nothing was trained.", error.Message);
        Assert.Equal(0, epochs);
    }

    /// <summary>These tests describe a machine without CUDA; on one with it the GPU path is the right answer.</summary>
    private static bool CudaWorks() => TorchSharp.torch.cuda.is_available();
}

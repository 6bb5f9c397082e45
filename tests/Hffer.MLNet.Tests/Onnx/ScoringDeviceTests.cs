using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Hffer.MLNet.Tests.Onnx;

/// <summary>
/// A GPU asked for through <c>MLContext.GpuDeviceId</c> on a machine whose ONNX Runtime package is the CPU one (this
/// machine, and CI): ML.NET's own scoring components would fail after training; the estimator decides first.
/// </summary>
[Collection("Torch")]
public class ScoringDeviceTests
{
    private const string NoCuda =
        "MLContext.GpuDeviceId is 0, but ONNX Runtime cannot score on it: the application's ONNX Runtime package has " +
        "no CUDA execution provider.";

    [Fact]
    public void WithFallbackTheModelTrainsScoresOnTheCpuAndSaysWhy()
    {
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
        Assert.Contains(warnings, w => w.StartsWith(NoCuda + " Scoring on the CPU", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutFallbackFitRefusesBeforeTrainingNamingThePackages()
    {
        var ml = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = false };
        int epochs = 0;
        var options = Pipelines.QuickOptions();
        options.EpochCompleted = _ => epochs++;

        var error = Assert.Throws<InvalidOperationException>(() =>
            Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, step: 20)));

        Assert.StartsWith(NoCuda + " Reference Microsoft.ML.OnnxRuntime.Gpu (Windows) or " +
            "Microsoft.ML.OnnxRuntime.Gpu.Linux (Linux)", error.Message);
        Assert.EndsWith("Nothing was trained.", error.Message);
        Assert.Equal(0, epochs);
    }
}

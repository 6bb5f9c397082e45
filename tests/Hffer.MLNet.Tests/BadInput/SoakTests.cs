using System.Diagnostics;
using System.Runtime.InteropServices;
using Hffer.MLNet.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit.Abstractions;

namespace Hffer.MLNet.Tests.BadInput;

/// <summary>
/// Many scoring calls and repeated training in one process: memory must level off (sessions and tensors released),
/// and threads scoring at once must get what one thread gets.
/// </summary>
[Collection("Torch")]
public class SoakTests
{
    /// <summary>Resident memory may grow by at most this much over the soak, after a warm-up.</summary>
    private const long GrowthBound = 300L << 20;

    private readonly ITestOutputHelper _output;

    public SoakTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void TwoThousandScoringCallsAndFiveFitsStayWithinTheMemoryBound()
    {
        var ml = new MLContext(1);
        var faces = HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % 14 == 0).ToArray();
        var training = Pipelines.TrainingSubset(ml, step: 20);
        void FitAndDispose()
        {
            using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(training);
            using var scorer = model.LastTransformer.CreateBatchScorer();
            Assert.Equal(faces.Length, scorer.ScoreFiles(faces.Select(f => f.ImagePath)).Count());
        }
        using var kept = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(training);
        using var keptScorer = kept.LastTransformer.CreateBatchScorer();
        void ScoreOnce(int call)
        {
            var face = faces[call % faces.Length];
            if (call % 2 == 0)
                Assert.Single(keptScorer.ScoreFiles([face.ImagePath]));
            else
                Assert.Single(kept.Transform(ml.Data.LoadFromEnumerable([face])).GetColumn<float[]>("Score"));
        }

        FitAndDispose();
        for (int call = 0; call < 200; call++)
            ScoreOnce(call);
        long before = ResidentBytes();

        for (int call = 0; call < 2000; call++)
            ScoreOnce(call);
        long afterScoring = ResidentBytes();
        for (int fit = 0; fit < 5; fit++)
            FitAndDispose();
        long after = ResidentBytes();

        _output.WriteLine($"resident: {before >> 20} MB after warm-up, {afterScoring >> 20} MB after 2,000 calls, " +
            $"{after >> 20} MB after 5 fits (growth {(after - before) >> 20} MB)");
        Assert.True(after - before < GrowthBound,
            $"grew {(after - before) >> 20} MB: {before >> 20} -> {afterScoring >> 20} -> {after >> 20} MB");
    }

    [Fact]
    public void FourThreadsScoringAtOnceGetWhatOneThreadGets()
    {
        var ml = new MLContext(1);
        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
        var faces = HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % 10 == 0).ToArray();
        using var scorer = model.LastTransformer.CreateBatchScorer(new() { BatchSize = 3 });
        var sequentialBatched = scorer.ScoreFiles(faces.Select(f => f.ImagePath)).Select(p => p.Score).ToArray();
        var sequentialTransform = model.Transform(ml.Data.LoadFromEnumerable(faces)).GetColumn<float[]>("Score")
            .ToArray();

        var results = Enumerable.Range(0, 4).AsParallel().WithDegreeOfParallelism(4).Select(thread =>
            (Batched: scorer.ScoreFiles(faces.Select(f => f.ImagePath)).Select(p => p.Score).ToArray(),
             Transform: model.Transform(ml.Data.LoadFromEnumerable(faces)).GetColumn<float[]>("Score").ToArray()))
            .ToArray();

        Assert.All(results, result =>
        {
            Assert.Equal(sequentialBatched, result.Batched);
            Assert.Equal(sequentialTransform, result.Transform);
        });
    }

    /// <summary>Resident set size after collecting garbage and returning freed native memory to the system.</summary>
    private static long ResidentBytes()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        if (OperatingSystem.IsLinux())
            MallocTrim(0);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}

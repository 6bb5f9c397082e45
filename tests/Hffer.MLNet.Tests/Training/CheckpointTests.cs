using Hffer.MLNet.Data;
using Hffer.MLNet.IO;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Training;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Training;

public class CheckpointTests
{
    private static readonly ImageSet Images = TrainerInputs.RandomImages(10, 3);
    private static readonly ImageSet Validation = TrainerInputs.RandomImages(6, 3, seed: 9);

    private static TrainingSettings Settings(string folder, int epochs = 3) => TrainerInputs.Settings() with
    {
        Epochs = epochs,
        CheckpointDirectory = folder,
        ProgressEveryNSteps = 1,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResumingAfterACancelledEpochEndsWithTheWeightsOfAnUninterruptedRun(bool validate)
    {
        var validation = validate ? Validation : null;
        using var uninterruptedFolder = new TemporaryFolder();
        using var interruptedFolder = new TemporaryFolder();
        using var cancellation = new CancellationTokenSource();

        var uninterruptedTrainer = new HfferTrainer(Settings(uninterruptedFolder.Path), _ => { });
        using var uninterrupted = uninterruptedTrainer.Train(Images, validation, CancellationToken.None);
        var stopInEpochTwo = Settings(interruptedFolder.Path) with
        {
            ProgressReported = p =>
            {
                if (p.Epoch == 2 && p.Step == 2)
                    cancellation.Cancel();
            },
        };
        var cancelledTrainer = new HfferTrainer(stopInEpochTwo, _ => { });
        using (var cancelled = cancelledTrainer.Train(Images, validation, cancellation.Token))
        {
            Assert.Equal(1, TrainingCheckpoint.ReadInfo(Path.Combine(interruptedFolder.Path, TrainingCheckpoint.FileName)).Epoch);
            Assert.Single(cancelledTrainer.History);
            if (!validate)
                Assert.NotEmpty(TrainerInputs.DifferingKeys(uninterrupted, cancelled));
        }
        var log = new List<string>();
        var resuming = new HfferTrainer(Settings(interruptedFolder.Path) with { ResumeFromCheckpoint = true }, log.Add);
        using var resumed = resuming.Train(Images, validation, CancellationToken.None);

        Assert.Empty(TrainerInputs.DifferingKeys(uninterrupted, resumed));
        Assert.Equal(CheckpointState(uninterruptedFolder.Path), CheckpointState(interruptedFolder.Path));
        Assert.Contains(log, m => m.StartsWith("Resumed from") && m.Contains("epoch 1 of 3 finished"));
        Assert.Equal([1, 2, 3], resuming.History.Select(m => m.Epoch));
        Assert.Equal(uninterruptedTrainer.BestEpoch, resuming.BestEpoch);
        Assert.Equal(uninterruptedTrainer.History.Select(m => (m.TrainLoss, m.ValidationAccuracy)),
            resuming.History.Select(m => (m.TrainLoss, m.ValidationAccuracy)));
    }

    [Fact]
    public void NanLossStopsTrainingAndLeavesTheLastCheckpointAsItWas()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, TrainingCheckpoint.FileName);
        using (new HfferTrainer(Settings(folder.Path, epochs: 1), _ => { }).Train(Images, null, CancellationToken.None)) { }
        byte[] before = File.ReadAllBytes(path);

        var diverging = Settings(folder.Path, epochs: 2) with { ResumeFromCheckpoint = true, LearningRate = 1e30 };
        var error = Assert.Throws<InvalidOperationException>(() =>
            new HfferTrainer(diverging, _ => { }).Train(Images, null, CancellationToken.None));

        Assert.Matches(@"loss became (NaN|-?∞|-?Infinity) at epoch 2, step \d+", error.Message);
        Assert.Contains($"The checkpoint {path} of epoch 1 is unchanged.", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(1, TrainingCheckpoint.ReadInfo(path).Epoch);
    }

    [Fact]
    public void AWriteThatDiesMidwayLeavesThePreviousCheckpointReadable()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, TrainingCheckpoint.FileName);
        var (network, optimizer) = SmallNetwork();
        using (network)
        using (optimizer)
        {
            TrainingCheckpoint.Write(path, Info(epoch: 4), network, optimizer, null);
            byte[] before = File.ReadAllBytes(path);

            // The disk fills up (or the process dies) 64 KB into the next checkpoint.
            Assert.Throws<IOException>(() => TrainingCheckpoint.Write(path, Info(epoch: 5), network, optimizer, null,
                stream => new FailingStream(stream, failAfterBytes: 64 * 1024)));

            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Equal(4, TrainingCheckpoint.ReadInfo(path).Epoch);
            Assert.Equal([TrainingCheckpoint.FileName], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        }
    }

    [Fact]
    public void TruncatedOrForeignCheckpointsAreRefusedByName()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, TrainingCheckpoint.FileName);
        string other = Path.Combine(folder.Path, "not-a-checkpoint.bin");
        var (network, optimizer) = SmallNetwork();
        using (network)
        using (optimizer)
            TrainingCheckpoint.Write(path, Info(epoch: 1), network, optimizer, null);
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        File.WriteAllBytes(other, [.. "PK"u8, .. new byte[100]]);

        var truncated = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.ReadInfo(path));
        var foreign = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.ReadInfo(other));

        Assert.Equal($"Cannot resume from {path}: its checksum does not match (truncated or damaged); delete it to " +
            "train from the start, or put back a copy.", truncated.Message);
        Assert.StartsWith($"Cannot resume from {other}:", foreign.Message);
    }

    [Fact]
    public void ResumingIntoAnotherNetworkIsRefusedWithTheDifferenceNamed()
    {
        using var folder = new TemporaryFolder();
        using (new HfferTrainer(Settings(folder.Path, epochs: 1), _ => { }).Train(Images, null, CancellationToken.None)) { }
        var wider = Settings(folder.Path, epochs: 2) with
        {
            ResumeFromCheckpoint = true,
            Architecture = HfferArchitecture.Small with { FusionModules = 1 },
        };
        var otherFrozenWeights = Settings(folder.Path, epochs: 2) with { ResumeFromCheckpoint = true, Seed = 8 };

        var architecture = Assert.Throws<InvalidDataException>(() =>
            new HfferTrainer(wider, _ => { }).Train(Images, null, CancellationToken.None));
        var frozen = Assert.Throws<InvalidDataException>(() =>
            new HfferTrainer(otherFrozenWeights, _ => { }).Train(Images, null, CancellationToken.None));

        Assert.Contains("its architecture is", architecture.Message);
        Assert.Contains("\"FusionModules\":1", architecture.Message);
        Assert.Contains("it was trained with the DINOv2 branch with random weights (seed ", frozen.Message);
        Assert.Contains("this training has the DINOv2 branch with random weights (seed 8)", frozen.Message);
    }

    [Fact]
    public void LeftoversOfAKilledWriterAreIgnoredAndRemoved()
    {
        using var folder = new TemporaryFolder();
        string leftover = Path.Combine(folder.Path, $".{TrainingCheckpoint.FileName}.0123{AtomicFile.TemporarySuffix}");
        File.WriteAllBytes(leftover, new byte[1000]);
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddHours(-2));
        var log = new List<string>();

        using (new HfferTrainer(Settings(folder.Path, epochs: 1) with { ResumeFromCheckpoint = true }, log.Add)
                   .Train(Images, null, CancellationToken.None)) { }

        Assert.False(File.Exists(leftover));
        Assert.Contains(log, m => m.StartsWith("No checkpoint at") && m.EndsWith("training starts at epoch 1."));
        Assert.Equal(1, TrainingCheckpoint.ReadInfo(Path.Combine(folder.Path, TrainingCheckpoint.FileName)).Epoch);
    }

    [Fact]
    public void EarlyStoppingCountsTheEpochsBeforeAResume()
    {
        using var folder = new TemporaryFolder();
        var patient = Settings(folder.Path, epochs: 6) with { EarlyStoppingPatience = 1, EarlyStoppingMinDelta = 1.0 };
        var uninterrupted = new HfferTrainer(patient with { CheckpointDirectory = null }, _ => { });
        using (uninterrupted.Train(Images, Validation, CancellationToken.None)) { }
        using (new HfferTrainer(patient with { Epochs = 1 }, _ => { }).Train(Images, Validation, CancellationToken.None)) { }

        var log = new List<string>();
        var resuming = new HfferTrainer(patient with { ResumeFromCheckpoint = true }, log.Add);
        using (resuming.Train(Images, Validation, CancellationToken.None)) { }

        // No gain can exceed a delta of 1.0, so both stop after epoch 2 and keep epoch 1.
        Assert.Equal([1, 2], uninterrupted.History.Select(m => m.Epoch));
        Assert.Equal([1, 2], resuming.History.Select(m => m.Epoch));
        Assert.Equal(1, resuming.BestEpoch);
        Assert.Contains(log, m => m.StartsWith("Early stopping after epoch 2"));
    }

    [Fact]
    public void ResumingAFinishedRunTrainsNothingAndReturnsItsWeights()
    {
        using var folder = new TemporaryFolder();
        using var finished = new HfferTrainer(Settings(folder.Path, epochs: 2), _ => { })
            .Train(Images, null, CancellationToken.None);
        byte[] checkpoint = File.ReadAllBytes(Path.Combine(folder.Path, TrainingCheckpoint.FileName));
        var again = new HfferTrainer(Settings(folder.Path, epochs: 2) with { ResumeFromCheckpoint = true }, _ => { });

        using var resumed = again.Train(Images, null, CancellationToken.None);

        Assert.Empty(TrainerInputs.DifferingKeys(finished, resumed));
        Assert.Equal([1, 2], again.History.Select(m => m.Epoch));
        Assert.Equal(checkpoint, File.ReadAllBytes(Path.Combine(folder.Path, TrainingCheckpoint.FileName)));
    }

    [Fact]
    public void ResumingWithAnotherWeightDecayWarnsAndUsesTheNewOne()
    {
        using var uninterruptedFolder = new TemporaryFolder();
        using var folder = new TemporaryFolder();
        using var uninterrupted = new HfferTrainer(Settings(uninterruptedFolder.Path, epochs: 2), _ => { })
            .Train(Images, null, CancellationToken.None);
        using (new HfferTrainer(Settings(folder.Path, epochs: 1), _ => { }).Train(Images, null, CancellationToken.None)) { }
        var warnings = new List<string>();
        var decayed = Settings(folder.Path, epochs: 2) with { ResumeFromCheckpoint = true, WeightDecay = 0.5 };

        using var resumed = new HfferTrainer(decayed, _ => { }, warnings.Add).Train(Images, null, CancellationToken.None);

        // The same run resumed with the saved decay is bitwise equal (tested above), so any difference is the decay.
        Assert.NotEmpty(TrainerInputs.DifferingKeys(uninterrupted, resumed));
        Assert.Contains(warnings, w => w.Contains("weight decay 0; continuing with this run's settings."));
    }

    /// <summary>The trainable state and best-epoch weights a checkpoint holds, as bytes by key.</summary>
    private static Dictionary<string, byte[]> CheckpointState(string folder)
    {
        var (network, optimizer) = SmallNetwork();
        using (network)
        using (optimizer)
        using (var best = new BestEpochTracker(0))
        {
            TrainingCheckpoint.Restore(Path.Combine(folder, TrainingCheckpoint.FileName), network, optimizer, best,
                (_, _) => { });
            var state = network.TrainableState().ToDictionary(e => e.Key, e => e.Value.bytes.ToArray());
            foreach (var (key, value) in best.Weights ?? new Dictionary<string, Tensor>())
                state["best." + key] = value.bytes.ToArray();
            return state;
        }
    }

    private static (HfferNetwork, TorchSharp.Modules.OptimizerHelper) SmallNetwork()
    {
        var network = new HfferNetwork(HfferArchitecture.Small, 3);
        return (network, optim.Adam(network.TrainableParameters(), 1e-3));
    }

    private static TrainingCheckpointInfo Info(int epoch) => new()
    {
        Epoch = epoch,
        Architecture = "{}",
        ClassCount = 3,
        FrozenBranch = "none",
        TrainingData = "none",
        Seed = 1,
        BatchSize = 4,
        LearningRate = 1e-3,
        LearningRateDecay = 0.99,
        WeightDecay = 0,
        History = [],
    };

    /// <summary>Passes writes through until a byte budget is spent, then fails as a full disk does.</summary>
    private sealed class FailingStream(Stream inner, long failAfterBytes) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > failAfterBytes)
                throw new IOException("No space left on device (simulated).");
            inner.Write(buffer);
            _written += buffer.Length;
        }

        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

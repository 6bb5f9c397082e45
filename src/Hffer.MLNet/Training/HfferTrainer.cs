using System.Diagnostics;
using System.Text.Json;
using Hffer.MLNet.Data;
using Hffer.MLNet.IO;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using Hffer.MLNet.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// Trains an <see cref="HfferNetwork"/> on an <see cref="ImageSet"/>: Adam on everything but the frozen DINOv2
/// branch, the hybrid loss, an exponentially decaying learning rate per epoch, the configured flips, shifts and random
/// erasing, cached prior features, validation with best-epoch restore and early stopping, per-epoch checkpoints and
/// resuming from them. One instance trains once.
/// </summary>
/// <remarks>
/// Every epoch draws its shuffling, augmentation and drop-path randomness from streams seeded by (seed, epoch), and
/// its learning rate is lr x decay^(epoch - 1); so an epoch depends only on the weights and optimizer state it starts
/// from, which is what makes a resumed run end with the same weights as an uninterrupted one.
/// </remarks>
internal sealed class HfferTrainer(TrainingSettings settings, Action<string> log, Action<string>? warn = null)
{
    private readonly List<HfferEpochMetrics> _history = [];
    private readonly Action<string> _warn = warn ?? log;

    private HfferNetwork _network = null!;
    private OptimizerHelper _optimizer = null!;
    private BestEpochTracker _best = null!;
    private HybridLoss _loss = null!;
    private PriorFeatureCache? _trainingFeatures;
    private PriorFeatureCache? _validationFeatures;
    private readonly string _architecture = JsonSerializer.Serialize(settings.Architecture);
    private string _frozenBranch = "";
    private string _trainingData = "";
    private string? _validationData;
    private int? _checkpointEpoch;

    /// <summary>The epoch whose weights were kept, when validation chose one.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>Metrics of every finished epoch, including those of the run a resumed training continues.</summary>
    public IReadOnlyList<HfferEpochMetrics> History => _history;

    /// <summary>What loading the configured checkpoints did, in load order.</summary>
    public List<WeightLoadReport> WeightReports { get; } = [];

    /// <summary>Where the per-epoch checkpoint goes, when checkpoints are on.</summary>
    public string? CheckpointPath => settings.CheckpointDirectory is { } folder
        ? Path.Combine(folder, TrainingCheckpoint.FileName)
        : null;

    /// <summary>Trains and returns the network in evaluation mode on the CPU.</summary>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellation"/> fired before the first training step of a run that resumed nothing; later it
    /// stops within one step and the model so far is returned (the best validated epoch when there is one, else the
    /// current weights, or the resumed checkpoint's when no step ran).
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// The loss or the weights became NaN or infinite; the last checkpoint stays as it was.
    /// </exception>
    /// <exception cref="InvalidDataException">The checkpoint to resume from is damaged or another network's.</exception>
    public HfferNetwork Train(ImageSet images, ImageSet? validation, CancellationToken cancellation)
    {
        if (images.Count == 0)
            throw new InvalidOperationException("The training data has no rows.");

        // Seeding before construction makes the initial weights repeatable; epochs reseed for themselves.
        torch.manual_seed(settings.Seed);
        if (settings.Device.type == DeviceType.CUDA)
            torch.cuda.manual_seed_all(settings.Seed);

        _network = CreateNetwork();
        _best = new BestEpochTracker(settings.EarlyStoppingMinDelta);
        using var classWeights = settings.BalanceClasses
            ? tensor(HybridLoss.BalancedClassWeights(images.Labels, settings.ClassCount), device: settings.Device)
            : null;
        _loss = new HybridLoss(settings.LabelSmoothing, settings.SmoothedLossWeight, classWeights);
        try
        {
            _optimizer = optim.Adam(_network.TrainableParameters(), settings.LearningRate,
                weight_decay: settings.WeightDecay);
            _frozenBranch = settings.OnnxPrior?.FeatureIdentity(settings.Architecture.TokenGrid)
                ?? FrozenBranchIdentity.Compute(_network);
            _trainingData = images.ContentHash();
            _validationData = validation?.ContentHash();
            int lastFinished = Resume();

            if (lastFinished < settings.Epochs && !ShouldStopEarly(lastFinished))
            {
                _trainingFeatures = CacheFeatures(images, settings.HorizontalFlip, "the training images", cancellation);
                if (validation is not null)
                    _validationFeatures = CacheFeatures(validation, false, "the validation images", cancellation);
            }
            images.ReleasePriorImages();
            validation?.ReleasePriorImages();
            RunEpochs(images, validation, lastFinished + 1, cancellation);

            if (_best.Epoch is { } bestEpoch)
            {
                _best.Restore(_network);
                BestEpoch = bestEpoch;
                log($"Kept the weights of epoch {bestEpoch} (best validation accuracy {_best.Accuracy:P2}).");
            }
        }
        catch
        {
            _network.Dispose();
            throw;
        }
        finally
        {
            _optimizer?.Dispose();
            _best.Dispose();

            // The features can be gigabytes; the caller goes on to export while holding this trainer.
            _trainingFeatures = null;
            _validationFeatures = null;
        }

        _network.eval();
        _network.to(CPU);
        return _network;
    }

    private void RunEpochs(ImageSet images, ImageSet? validation, int firstEpoch, CancellationToken cancellation)
    {
        int stepsPerEpoch = (images.Count + settings.BatchSize - 1) / settings.BatchSize;
        var runClock = Stopwatch.StartNew();
        var earlier = _history.LastOrDefault()?.Elapsed ?? TimeSpan.Zero;
        long stepsThisRun = 0;

        for (int epoch = firstEpoch; epoch <= settings.Epochs; epoch++)
        {
            if (ShouldStopEarly(epoch - 1))
            {
                log($"Early stopping after epoch {epoch - 1}: no validation gain above " +
                    $"{settings.EarlyStoppingMinDelta:P2} for {settings.EarlyStoppingPatience} epoch(s).");
                return;
            }

            var random = new Random(EpochSeed(epoch));
            torch.manual_seed(EpochSeed(epoch));
            double learningRate = settings.LearningRate * Math.Pow(settings.LearningRateDecay, epoch - 1);
            foreach (var group in _optimizer.ParamGroups)
                group.LearningRate = learningRate;
            _network.train();
            var order = Enumerable.Range(0, images.Count).ToArray();
            random.Shuffle(order);

            var epochClock = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0;
            int seen = 0;
            for (int step = 0; step < stepsPerEpoch; step++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    if (stepsThisRun == 0 && _history.Count == 0)
                        cancellation.ThrowIfCancellationRequested();
                    log(_best.Epoch is { } kept
                        ? $"Training cancelled in epoch {epoch} before step {step + 1}; returning the best epoch, {kept}."
                        : $"Training cancelled in epoch {epoch} before step {step + 1}; returning the weights so far.");
                    return;
                }

                int offset = step * settings.BatchSize, length = Math.Min(settings.BatchSize, images.Count - offset);
                double batchLoss;
                long batchCorrect;
                try
                {
                    (batchLoss, batchCorrect) = QuietGarbageCollector.Run(() =>
                        Step(images, order.AsSpan(offset, length), random));
                }
                catch (Exception e) when (OutOfMemory.Is(e))
                {
                    throw OutOfMemory.Explain(e, epoch, step + 1, settings.BatchSize,
                        settings.Device.type == DeviceType.CUDA ? $"GPU {settings.Device.index}" : "CPU");
                }
                if (!double.IsFinite(batchLoss))
                    throw new InvalidOperationException(
                        $"The training loss became {batchLoss} at epoch {epoch}, step {step + 1}; training stopped. " +
                        "Lower the learning rate or check the input images." + CheckpointNote());

                lossSum += batchLoss * length;
                correct += batchCorrect;
                seen += length;
                stepsThisRun++;
                if (settings.ProgressEveryNSteps > 0 && (step + 1) % settings.ProgressEveryNSteps == 0)
                {
                    long stepsLeft = stepsPerEpoch - step - 1 + (long)stepsPerEpoch * (settings.Epochs - epoch);
                    ReportProgress(new HfferTrainingProgress
                    {
                        Epoch = epoch,
                        Epochs = settings.Epochs,
                        Step = step + 1,
                        StepsPerEpoch = stepsPerEpoch,
                        ImagesPerSecond = seen / epochClock.Elapsed.TotalSeconds,
                        TrainLoss = lossSum / seen,
                        TrainAccuracy = (double)correct / seen,
                        ValidationAccuracy = _history.LastOrDefault()?.ValidationAccuracy,
                        LearningRate = learningRate,
                        Elapsed = earlier + runClock.Elapsed,
                        EstimatedRemaining = runClock.Elapsed / stepsThisRun * stepsLeft,
                    });
                }
            }

            var trainingTime = epochClock.Elapsed;
            EnsureFiniteWeights(epoch);
            var (validationLoss, validationAccuracy) = validation is null
                ? ((double?)null, (double?)null)
                : Evaluate(validation);
            if (validationLoss is { } lossValue && !double.IsFinite(lossValue))
                throw new InvalidOperationException(
                    $"The validation loss became {lossValue} after epoch {epoch}; training stopped." + CheckpointNote());
            bool isBest = validationAccuracy is { } accuracy && _best.Offer(epoch, accuracy, _network);
            int epochsThisRun = epoch - firstEpoch + 1;
            var metrics = new HfferEpochMetrics
            {
                Epoch = epoch,
                Epochs = settings.Epochs,
                TrainLoss = lossSum / images.Count,
                TrainAccuracy = (double)correct / images.Count,
                LearningRate = learningRate,
                ImagesPerSecond = images.Count / trainingTime.TotalSeconds,
                Duration = epochClock.Elapsed,
                Elapsed = earlier + runClock.Elapsed,
                EstimatedRemaining = runClock.Elapsed / epochsThisRun * (settings.Epochs - epoch),
                ValidationLoss = validationLoss,
                ValidationAccuracy = validationAccuracy,
                IsBest = isBest,
            };
            _history.Add(metrics);
            log(metrics.ToString());

            // Written before the callback runs (it may cancel or throw), reported after it, in reading order.
            string? saved = SaveCheckpoint(epoch);
            settings.EpochCompleted?.Invoke(metrics);
            if (saved is not null)
                log(saved);
        }
    }

    private bool ShouldStopEarly(int lastFinishedEpoch) =>
        settings.EarlyStoppingPatience is { } patience && _best.EpochsSinceBest(lastFinishedEpoch) >= patience;

    /// <summary>
    /// Refuses weights that overflowed in the epoch's last steps, which the loss (computed before each update) cannot
    /// show, so that they are never checkpointed or kept as the best.
    /// </summary>
    private void EnsureFiniteWeights(int epoch)
    {
        using var scope = NewDisposeScope();
        var (name, _) = _network.named_parameters()
            .FirstOrDefault(e => e.parameter.requires_grad && !e.parameter.isfinite().all().item<bool>());
        if (name is null)
            return;
        throw new InvalidOperationException(
            $"The weights became NaN or infinite in epoch {epoch} ('{name}'); training stopped. Lower the learning " +
            "rate." + CheckpointNote());
    }

    private void ReportProgress(HfferTrainingProgress progress)
    {
        log(progress.ToString());
        settings.ProgressReported?.Invoke(progress);
    }

    /// <summary>The seed of epoch <paramref name="epoch"/>'s random streams, mixed from the run's (SplitMix64).</summary>
    private int EpochSeed(int epoch)
    {
        ulong mixed = (ulong)(uint)settings.Seed * 0x9E3779B97F4A7C15UL + (ulong)epoch;
        mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9UL;
        mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBUL;
        return (int)((mixed ^ (mixed >> 31)) & int.MaxValue);
    }

    private HfferNetwork CreateNetwork()
    {
        var network = new HfferNetwork(settings.Architecture, settings.ClassCount, settings.OnnxPrior?.MapShape);
        try
        {
            if (settings.Dinov2Checkpoint is { } dinov2)
                WeightReports.Add(PretrainedWeights.LoadDinov2(network.dinov2!, dinov2, settings.StrictWeightLoading));
            if (settings.Ir50Checkpoint is { } ir50)
                WeightReports.Add(PretrainedWeights.LoadIr50(network.ir50, ir50, settings.Architecture.Ir50StageUnits,
                    settings.StrictWeightLoading));
            foreach (var report in WeightReports)
                log(report.ToString());
            network.to(settings.Device);
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private PriorFeatureCache? CacheFeatures(ImageSet images, bool withMirrors, string description,
        CancellationToken cancellation)
    {
        if (!settings.UsesFeatureCache)
        {
            log(settings.FeatureCache == FeatureCacheMode.None
                ? "Prior feature cache off: the frozen branch runs on every step."
                : "Prior feature cache bypassed: shifts and random erasing reach the frozen branch " +
                  "(AugmentFrozenBranch), so its input changes every step.");
            return null;
        }

        int grid = settings.Architecture.TokenGrid;
        IPriorFeatureSource source = settings.OnnxPrior is { } prior
            ? new OnnxFeatureSource(prior, grid)
            : new Dinov2FeatureSource(_network, settings.Device);
        IPriorFeatureStore store = settings.FeatureCache == FeatureCacheMode.Disk
            ? new DiskFeatureStore(settings.FeatureCacheDirectory!, _frozenBranch, images, source.FeatureLength)
            : new MemoryFeatureStore(images.Count, source.FeatureLength);
        return PriorFeatureCache.Fill(source, images, withMirrors, store, grid * grid, description, log, cancellation);
    }

    /// <summary>Loads the checkpoint when resuming; returns the last epoch it finished (0 when starting anew).</summary>
    private int Resume()
    {
        if (CheckpointPath is not { } path)
            return 0;

        // Created now, so that a folder that cannot be written fails before hours of training, not after an epoch.
        Directory.CreateDirectory(settings.CheckpointDirectory!);
        AtomicFile.RemoveLeftovers(settings.CheckpointDirectory!, TimeSpan.FromMinutes(10), TrainingCheckpoint.FileName);
        if (!File.Exists(path))
        {
            if (settings.ResumeFromCheckpoint)
                log($"No checkpoint at {path} yet; training starts at epoch 1.");
            return 0;
        }
        if (!settings.ResumeFromCheckpoint)
        {
            _warn($"{path} exists and is replaced after the first epoch; set ResumeFromCheckpoint to continue from it.");
            return 0;
        }

        var info = TrainingCheckpoint.Restore(path, _network, _optimizer, _best, CheckCompatible);
        _checkpointEpoch = info.Epoch;
        _history.AddRange(info.History);

        // Adam's restored options carry the saved run's weight decay; this run's options decide.
        foreach (var group in _optimizer.ParamGroups)
        {
            if (group is ParamGroup { Options: Adam.Options adam })
                adam.weight_decay = settings.WeightDecay;
        }
        if (info.ValidationData != _validationData && _best.Epoch is not null)
        {
            _warn($"{path} chose its best epoch on other validation data; the best epoch is chosen anew.");
            _best.Dispose();
            _best = new BestEpochTracker(settings.EarlyStoppingMinDelta);
        }
        log($"Resumed from {path}: epoch {info.Epoch} of {settings.Epochs} finished" +
            (info.BestEpoch is { } best ? $", best validation epoch {best}." : "."));
        return info.Epoch;
    }

    private void CheckCompatible(string path, TrainingCheckpointInfo info)
    {
        void Refuse(string what, object expected, object found) => throw new InvalidDataException(
            $"Cannot resume from {path}: its {what} is {found}, this training has {expected}.");

        if (info.Architecture != _architecture)
            Refuse("architecture", _architecture, info.Architecture);
        if (info.ClassCount != settings.ClassCount)
            Refuse("class count", settings.ClassCount, info.ClassCount);
        if (info.FrozenBranch != _frozenBranch)
            throw new InvalidDataException(
                $"Cannot resume from {path}: it was trained with {info.FrozenPrior ?? "another frozen prior"} " +
                $"(identity {info.FrozenBranch}), this training has {PriorInWords()} (identity {_frozenBranch}). " +
                "Set OnnxPrior or Dinov2Checkpoint (and Seed) as in that run, or use another CheckpointDirectory or " +
                "ResumeFromCheckpoint = false to start over.");

        // These change the run's course but not what can be loaded: continuing is the user's call.
        if (info.TrainingData != _trainingData)
            _warn($"{path} was trained on other images (or another validation split); continuing on these.");
        if (info.Seed != settings.Seed || info.BatchSize != settings.BatchSize
            || info.LearningRate != settings.LearningRate || info.LearningRateDecay != settings.LearningRateDecay
            || info.WeightDecay != settings.WeightDecay)
            _warn($"{path} was trained with seed {info.Seed}, batch {info.BatchSize}, learning rate " +
                $"{info.LearningRate} x {info.LearningRateDecay}, weight decay {info.WeightDecay}; continuing with " +
                "this run's settings.");
    }

    /// <summary>Writes the checkpoint of <paramref name="epoch"/> when checkpoints are on; returns what to log.</summary>
    private string? SaveCheckpoint(int epoch)
    {
        if (CheckpointPath is not { } path)
            return null;

        var clock = Stopwatch.StartNew();
        var info = new TrainingCheckpointInfo
        {
            Epoch = epoch,
            Architecture = _architecture,
            ClassCount = settings.ClassCount,
            FrozenBranch = _frozenBranch,
            FrozenPrior = PriorInWords(),
            TrainingData = _trainingData,
            ValidationData = _validationData,
            Seed = settings.Seed,
            BatchSize = settings.BatchSize,
            LearningRate = settings.LearningRate,
            LearningRateDecay = settings.LearningRateDecay,
            WeightDecay = settings.WeightDecay,
            BestEpoch = _best.Epoch,
            BestAccuracy = _best.Epoch is null ? 0 : _best.Accuracy,
            History = [.. _history],
        };
        TrainingCheckpoint.Write(path, info, _network, _optimizer, _best.Weights);
        _checkpointEpoch = epoch;
        return $"Checkpoint of epoch {epoch} written to {path} " +
            $"({new FileInfo(path).Length / 1e6:N1} MB, {clock.Elapsed.TotalSeconds:F1} s).";
    }

    private string PriorInWords() => settings.OnnxPrior is { } prior
        ? $"the ONNX prior {Path.GetFileName(prior.Description.ModelPath)} '{prior.Description.FeatureMapName}'"
        : settings.Dinov2Checkpoint is { } weights
            ? $"the DINOv2 branch from {Path.GetFileName(weights)}"
            : $"the DINOv2 branch with random weights (seed {settings.Seed})";

    private string CheckpointNote() => _checkpointEpoch is { } epoch
        ? $" The checkpoint {CheckpointPath} of epoch {epoch} is unchanged."
        : "";

    private (double Loss, double Accuracy) Evaluate(ImageSet validation)
    {
        _network.eval();
        double lossSum = 0;
        long correct = 0;
        var indices = Enumerable.Range(0, validation.Count).ToArray();
        for (int start = 0; start < validation.Count; start += settings.BatchSize)
        {
            int length = Math.Min(settings.BatchSize, validation.Count - start), offset = start;
            var (batchLoss, batchCorrect) = QuietGarbageCollector.Run(() =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var batch = indices.AsSpan(offset, length);
                var targets = validation.Targets(batch, settings.Device);
                var image = ImageNormalization.Apply(validation.Pixels(batch, settings.Device));
                var prior = _validationFeatures?.Tokens(batch, null, settings.Device) ?? _network.PriorTokens(image);
                var logits = _network.Classify(image, prior);
                return ((double)_loss.Compute(logits, targets).item<float>(),
                    logits.argmax(1).eq(targets).sum().item<long>());
            });
            lossSum += batchLoss * length;
            correct += batchCorrect;
        }
        return (lossSum / validation.Count, (double)correct / validation.Count);
    }

    private (double Loss, long Correct) Step(ImageSet images, ReadOnlySpan<int> batch, Random random)
    {
        using var scope = NewDisposeScope();

        // The draw order (mirror, shift, erase) is the same with and without the cache, so both train alike.
        var pixels = images.Pixels(batch, settings.Device);
        bool[]? mirrored = settings.HorizontalFlip ? Augmentation.ChooseMirrors(batch.Length, random) : null;
        if (mirrored is not null)
            pixels = Augmentation.Mirror(pixels, mirrored);
        var face = pixels;
        if (settings.ShiftFraction > 0)
            face = Augmentation.Shift(face, settings.ShiftFraction, random);
        if (settings.ErasingProbability > 0)
            face = Augmentation.Erase(face, settings.ErasingProbability, random);
        var targets = images.Targets(batch, settings.Device);

        var prior = _trainingFeatures?.Tokens(batch, mirrored, settings.Device)
            ?? _network.PriorTokens(ImageNormalization.Apply(settings.AugmentFrozenBranch ? face : pixels));
        var logits = _network.Classify(ImageNormalization.Apply(face), prior);
        var value = _loss.Compute(logits, targets);

        _optimizer.zero_grad();
        value.backward();
        _optimizer.step();

        long correct = logits.argmax(1).eq(targets).sum().item<long>();
        return (value.item<float>(), correct);
    }
}

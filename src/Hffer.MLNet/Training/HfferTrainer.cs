using System.Diagnostics;
using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using Hffer.MLNet.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// Trains an <see cref="HfferNetwork"/> from scratch on an <see cref="ImageSet"/>: Adam on everything but the
/// frozen DINOv2 branch, the hybrid loss, ExponentialLR stepped once per epoch, and the configured flips, shifts
/// and random erasing.
/// </summary>
internal sealed class HfferTrainer(TrainingSettings settings, Action<string> log)
{
    /// <summary>Runs every epoch and returns the network in evaluation mode on the CPU.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired; checked every step.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    /// <remarks>
    /// With <paramref name="validation"/> images, each epoch is scored on them and the weights of the epoch with the
    /// best validation accuracy are restored at the end (and on cancellation); early stopping watches the same
    /// accuracy. Cancellation after at least one finished epoch stops within one step and returns the model so far.
    /// </remarks>
    public HfferNetwork Train(ImageSet images, ImageSet? validation, Action<HfferEpochMetrics>? epochCompleted,
        CancellationToken cancellation)
    {
        if (images.Count == 0)
            throw new InvalidOperationException("The training data has no rows.");

        // Seeding before construction makes initial weights, drop-path masks and augmentation repeatable.
        torch.manual_seed(settings.Seed);
        if (settings.Device.type == DeviceType.CUDA)
            torch.cuda.manual_seed_all(settings.Seed);
        var shuffler = new Random(settings.Seed);

        var network = new HfferNetwork(settings.Architecture, settings.ClassCount);
        try
        {
            LoadPretrained(network);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        network.to(settings.Device);
        var optimizer = optim.Adam(network.TrainableParameters(), settings.LearningRate,
            weight_decay: settings.WeightDecay);
        var scheduler = optim.lr_scheduler.ExponentialLR(optimizer, settings.LearningRateDecay);
        using var classWeights = settings.BalanceClasses
            ? tensor(HybridLoss.BalancedClassWeights(images.Labels, settings.ClassCount), device: settings.Device)
            : null;
        var loss = new HybridLoss(settings.LabelSmoothing, settings.SmoothedLossWeight, classWeights);

        var order = Enumerable.Range(0, images.Count).ToArray();
        var total = Stopwatch.StartNew();
        var best = new BestEpochTracker(settings.EarlyStoppingMinDelta);
        int completedEpochs = 0;
        try
        {
            for (int epoch = 1; epoch <= settings.Epochs; epoch++)
            {
                double learningRate = optimizer.ParamGroups.First().LearningRate;
                var epochClock = Stopwatch.StartNew();
                network.train();
                shuffler.Shuffle(order);

                double lossSum = 0;
                long correct = 0;
                int steps = (images.Count + settings.BatchSize - 1) / settings.BatchSize;
                for (int step = 0; step < steps; step++)
                {
                    if (cancellation.IsCancellationRequested && completedEpochs > 0)
                        break;
                    cancellation.ThrowIfCancellationRequested();
                    var batch = order.AsSpan(step * settings.BatchSize,
                        Math.Min(settings.BatchSize, images.Count - step * settings.BatchSize));

                    int offset = step * settings.BatchSize, length = batch.Length;
                    var (batchLoss, batchCorrect) = QuietGarbageCollector.Run(() =>
                        Step(network, optimizer, loss, images, order.AsSpan(offset, length), shuffler));
                    if (!double.IsFinite(batchLoss))
                        throw new InvalidOperationException(
                            $"The training loss became {batchLoss} at epoch {epoch}, step {step + 1}; training stopped. " +
                            "Lower the learning rate or check the input images.");

                    lossSum += batchLoss * batch.Length;
                    correct += batchCorrect;
                    if ((step + 1) % settings.LogEveryNSteps == 0)
                        log($"epoch {epoch} step {step + 1}/{steps}: loss {batchLoss:F4}");
                }

                if (cancellation.IsCancellationRequested)
                {
                    log($"Training cancelled during epoch {epoch}; keeping the model of epoch {best.Epoch ?? completedEpochs}.");
                    break;
                }

                scheduler.step();
                var (validationLoss, validationAccuracy) = validation is null
                    ? ((double?)null, (double?)null)
                    : Evaluate(network, loss, validation);
                var metrics = new HfferEpochMetrics
                {
                    Epoch = epoch,
                    Epochs = settings.Epochs,
                    TrainLoss = lossSum / images.Count,
                    TrainAccuracy = (double)correct / images.Count,
                    LearningRate = learningRate,
                    ImagesPerSecond = images.Count / epochClock.Elapsed.TotalSeconds,
                    Duration = epochClock.Elapsed,
                    Elapsed = total.Elapsed,
                    ValidationLoss = validationLoss,
                    ValidationAccuracy = validationAccuracy,
                };
                completedEpochs = epoch;
                log(metrics.ToString());
                if (validationAccuracy is { } accuracy && best.Offer(epoch, accuracy, network))
                    log($"epoch {epoch} is the best so far (validation accuracy {accuracy:P2}).");
                epochCompleted?.Invoke(metrics);

                if (settings.EarlyStoppingPatience is { } patience && best.EpochsSinceBest(epoch) >= patience)
                {
                    log($"Early stopping after epoch {epoch}: no validation gain for {patience} epoch(s).");
                    break;
                }
            }

            if (best.Epoch is { } bestEpoch)
            {
                best.Restore(network);
                BestEpoch = bestEpoch;
                log($"Restored the weights of epoch {bestEpoch} (best validation accuracy {best.Accuracy:P2}).");
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }
        finally
        {
            optimizer.Dispose();
            best.Dispose();
        }

        network.eval();
        network.to(CPU);
        return network;
    }

    /// <summary>The epoch whose weights were kept, when validation chose one.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>What loading the configured checkpoints did, in load order.</summary>
    public List<WeightLoadReport> WeightReports { get; } = [];

    private void LoadPretrained(HfferNetwork network)
    {
        if (settings.Dinov2Checkpoint is { } dinov2)
            WeightReports.Add(PretrainedWeights.LoadDinov2(network.dinov2, dinov2, settings.StrictWeightLoading));
        if (settings.Ir50Checkpoint is { } ir50)
            WeightReports.Add(PretrainedWeights.LoadIr50(network.ir50, ir50, settings.Architecture.Ir50StageUnits,
                settings.StrictWeightLoading));
        foreach (var report in WeightReports)
            log(report.ToString());
    }

    private (double Loss, double Accuracy) Evaluate(HfferNetwork network, HybridLoss loss, ImageSet validation)
    {
        network.eval();
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
                var logits = network.call(ImageNormalization.Apply(validation.Pixels(batch, settings.Device)));
                return ((double)loss.Compute(logits, targets).item<float>(), logits.argmax(1).eq(targets).sum().item<long>());
            });
            lossSum += batchLoss * length;
            correct += batchCorrect;
        }
        return (lossSum / validation.Count, (double)correct / validation.Count);
    }

    private (double Loss, long Correct) Step(HfferNetwork network, optim.Optimizer optimizer, HybridLoss loss,
        ImageSet images, ReadOnlySpan<int> batch, Random random)
    {
        using var scope = NewDisposeScope();

        var pixels = images.Pixels(batch, settings.Device);
        if (settings.HorizontalFlip)
            pixels = Augmentation.FlipHorizontally(pixels, random);
        if (settings.ShiftFraction > 0)
            pixels = Augmentation.Shift(pixels, settings.ShiftFraction, random);
        if (settings.ErasingProbability > 0)
            pixels = Augmentation.Erase(pixels, settings.ErasingProbability, random);
        var targets = images.Targets(batch, settings.Device);

        var logits = network.call(ImageNormalization.Apply(pixels));
        var value = loss.Compute(logits, targets);

        optimizer.zero_grad();
        value.backward();
        optimizer.step();

        long correct = logits.argmax(1).eq(targets).sum().item<long>();
        return (value.item<float>(), correct);
    }
}

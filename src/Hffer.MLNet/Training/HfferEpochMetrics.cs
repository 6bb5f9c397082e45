using System.Globalization;

namespace Hffer.MLNet.Training;

/// <summary>What one finished training epoch measured; passed to <see cref="HfferOptions.EpochCompleted"/>.</summary>
public sealed record HfferEpochMetrics
{
    /// <summary>One-based epoch number.</summary>
    public required int Epoch { get; init; }

    /// <summary>Total number of epochs of the run.</summary>
    public required int Epochs { get; init; }

    /// <summary>Mean hybrid loss over the epoch's training images.</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Fraction of the epoch's training images whose arg-max prediction (with augmentation) was right.</summary>
    public required double TrainAccuracy { get; init; }

    /// <summary>Learning rate used during the epoch.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Training images processed per second in the epoch.</summary>
    public required double ImagesPerSecond { get; init; }

    /// <summary>Wall time of the epoch.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>
    /// Wall time of the epochs so far (from the first step, after images were read and features cached), including
    /// those of the runs a resumed training continues.
    /// </summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Mean hybrid loss on the validation images (no augmentation), when there are any.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>Accuracy on the validation images, when there are any.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>Estimated time to the last epoch from this run's mean epoch time (early stopping may end sooner).</summary>
    public TimeSpan EstimatedRemaining { get; init; }

    /// <summary>Whether this epoch's weights are the best on validation data so far (and so the ones kept).</summary>
    public bool IsBest { get; init; }

    /// <inheritdoc />
    public override string ToString()
    {
        var invariant = CultureInfo.InvariantCulture;
        string validation = ValidationAccuracy is { } accuracy
            ? string.Create(invariant, $"val loss {ValidationLoss:F4}  val acc {accuracy:P1}{(IsBest ? " *" : "")}  ")
            : "";
        return string.Create(invariant, $"epoch {Epoch,3}/{Epochs}  loss {TrainLoss:F4}  train acc {TrainAccuracy:P1}  ")
            + validation + string.Create(invariant, $"lr {LearningRate:E2}  {ImagesPerSecond,6:F1} img/s  ")
            + string.Create(invariant, $"{Duration.TotalSeconds,5:F1} s  eta ") + Durations.Format(EstimatedRemaining);
    }
}

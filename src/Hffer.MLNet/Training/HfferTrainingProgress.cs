using System.Globalization;

namespace Hffer.MLNet.Training;

/// <summary>
/// A report from inside a training epoch, every <see cref="HfferOptions.ProgressEveryNSteps"/> optimizer steps;
/// passed to <see cref="HfferOptions.ProgressReported"/>.
/// </summary>
public sealed record HfferTrainingProgress
{
    /// <summary>One-based epoch number.</summary>
    public required int Epoch { get; init; }

    /// <summary>Total number of epochs of the run.</summary>
    public required int Epochs { get; init; }

    /// <summary>One-based number of the optimizer step just finished within the epoch.</summary>
    public required int Step { get; init; }

    /// <summary>Optimizer steps per epoch.</summary>
    public required int StepsPerEpoch { get; init; }

    /// <summary>Training images per second since the epoch started.</summary>
    public required double ImagesPerSecond { get; init; }

    /// <summary>Mean hybrid loss over the epoch's steps so far.</summary>
    public required double TrainLoss { get; init; }

    /// <summary>Fraction of the epoch's images so far whose arg-max prediction (with augmentation) was right.</summary>
    public required double TrainAccuracy { get; init; }

    /// <summary>Validation accuracy after the previous epoch, when there is validation data and such an epoch.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>Learning rate of the epoch.</summary>
    public required double LearningRate { get; init; }

    /// <summary>
    /// Wall time of the epochs so far (from the first step, after images were read and features cached), including
    /// those of the runs a resumed training continues.
    /// </summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>
    /// Estimated time to the end of the last epoch at this run's pace so far (steps, validation and checkpoints).
    /// </summary>
    public required TimeSpan EstimatedRemaining { get; init; }

    /// <inheritdoc />
    public override string ToString()
    {
        string validation = ValidationAccuracy is { } accuracy
            ? string.Create(CultureInfo.InvariantCulture, $"  last val acc {accuracy:P1}")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {Epoch}/{Epochs} step {Step}/{StepsPerEpoch}  loss {TrainLoss:F4}  train acc {TrainAccuracy:P1}  " +
            $"lr {LearningRate:E2}  {ImagesPerSecond:F1} img/s{validation}  eta ") + Durations.Format(EstimatedRemaining);
    }
}

using Hffer.MLNet.Modeling;
using Hffer.MLNet.Priors;
using Hffer.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet;

/// <summary>Options of <see cref="HfferEstimator"/>. Validated when the estimator is created.</summary>
public sealed class HfferOptions
{
    /// <summary>Label column: a key type (use <c>MapValueToKey</c>); its key order is the order of the scores.</summary>
    public string LabelColumnName = "Label";

    /// <summary>Image column produced by <c>LoadImages</c> (any size; it is resized to the network input).</summary>
    public string ImageColumnName = "Image";

    /// <summary>Output column of class probabilities, a vector in label-key order.</summary>
    public string ScoreColumnName = "Score";

    /// <summary>Output column of the predicted class, of the label's key type with its names.</summary>
    public string PredictedLabelColumnName = "PredictedLabel";

    /// <summary>Network size; ignored when <see cref="Architecture"/> is set.</summary>
    public HfferPreset Preset = HfferPreset.Small;

    /// <summary>Explicit network sizes, overriding <see cref="Preset"/>.</summary>
    public HfferArchitecture? Architecture;

    /// <summary>Number of passes over the training data.</summary>
    public int Epochs = 10;

    /// <summary>Images per optimizer step (the paper uses 200).</summary>
    public int BatchSize = 32;

    /// <summary>
    /// Adam learning rate. Null picks the preset's: 4e-5 for <see cref="HfferPreset.Paper"/> (the paper's, meant for
    /// pretrained backbones) and 3e-4 for <see cref="HfferPreset.Small"/> and custom architectures, which train from
    /// scratch (measured on the quickstart data: 1e-3 and 3e-3 learned slower and generalized worse).
    /// </summary>
    public double? LearningRate;

    /// <summary>ExponentialLR factor applied after every epoch (paper: 0.99).</summary>
    public double LearningRateDecay = 0.99;

    /// <summary>Seed for weight initialisation, shuffling and augmentation.</summary>
    public int Seed = 1;

    /// <summary>
    /// CUDA device index to train (TorchSharp) and score (ONNX Runtime's CUDA execution provider) on; null takes
    /// <c>MLContext.GpuDeviceId</c>, and the CPU when that is null too.
    /// </summary>
    /// <remarks>
    /// The application needs the CUDA native packages: TorchSharp-cuda-linux and Microsoft.ML.OnnxRuntime.Gpu.Linux
    /// on Linux, TorchSharp-cuda-windows and Microsoft.ML.OnnxRuntime.Gpu on Windows. Both backends are checked
    /// before training. The device is not stored in a saved model: <c>Model.Load</c> scores on the loading
    /// context's <c>GpuDeviceId</c>.
    /// </remarks>
    public int? GpuDeviceId;

    /// <summary>
    /// Whether a GPU that TorchSharp or ONNX Runtime cannot use is replaced by the CPU (with a warning) instead of
    /// failing before training; null takes <c>MLContext.FallbackToCpu</c>.
    /// </summary>
    public bool? FallbackToCpu;

    /// <summary>Whether training images are mirrored left-right at random.</summary>
    public bool HorizontalFlip = true;

    /// <summary>
    /// Largest random translation of training images, as a fraction of their side (0 turns it off). Not in the
    /// paper; it helps the from-scratch <see cref="HfferPreset.Small"/> preset on small datasets.
    /// </summary>
    public double RandomShift = 0.1;

    /// <summary>Probability of random erasing per training image (POSTER: 0.5, area 2-10 %; 0 turns it off).</summary>
    public double RandomErasing = 0.5;

    /// <summary>L2 weight decay added to Adam's gradients (the paper uses none).</summary>
    public double WeightDecay;

    /// <summary>
    /// Weigh each training image's loss by N / (classes x images of its class), so that rare classes (FER-2013's
    /// disgust) count as much as common ones. Off by default, as in the paper.
    /// </summary>
    public bool BalanceClasses;

    /// <summary>Label smoothing delta of the smoothed loss term (paper: 0.2).</summary>
    public double LabelSmoothing = 0.2;

    /// <summary>Weight of the smoothed term in the hybrid loss; plain cross entropy gets the rest (paper: 0.67).</summary>
    public double SmoothedLossWeight = 0.67;

    /// <summary>
    /// Official DINOv2 weights to load into the frozen branch before training: the torch.hub file
    /// (<c>dinov2_vitb14_pretrain.pth</c>) or the Hugging Face <c>model.safetensors</c> of facebook/dinov2-base.
    /// Needs an architecture with the checkpoint's sizes (<see cref="HfferPreset.Paper"/> for ViT-B/14).
    /// </summary>
    public string? Dinov2Checkpoint;

    /// <summary>
    /// A pretrained ONNX image model that replaces the TorchSharp DINOv2 branch as the frozen prior, for example
    /// <see cref="OnnxFeaturizerPrior.ResNet18"/> (ImageNet ResNet18 from an ML.NET NuGet package, available offline).
    /// Null keeps the paper's DINOv2 branch, which without <see cref="Dinov2Checkpoint"/> has random weights and
    /// teaches nothing.
    /// </summary>
    /// <remarks>
    /// The HFFER recipe with another prior: a 512-channel ResNet18 map is a weaker, smaller prior than DINOv2 ViT-B/14
    /// and was not in the paper. Its features are always cached (<see cref="FeatureCache"/> cannot be
    /// <see cref="FeatureCacheMode.None"/>, <see cref="AugmentFrozenBranch"/> cannot be set), and while they are
    /// computed each training image is also held at the prior's input size (3 x 224 x 224 bytes for ResNet18).
    /// </remarks>
    public OnnxFeaturizerPrior? OnnxPrior;

    /// <summary>POSTER's MS-Celeb-1M IR50 weights (<c>ir50.pth</c>) to start the face branch from.</summary>
    public string? Ir50Checkpoint;

    /// <summary>
    /// Whether a checkpoint must fit its branch exactly (every entry present, none unexpected, same shapes); when
    /// false, matching entries load and the rest is reported through <c>MLContext.Log</c>.
    /// </summary>
    public bool StrictWeightLoading = true;

    /// <summary>
    /// Whether training and validation images that cannot be read (corrupt, truncated beyond repair, not an image,
    /// empty, missing) are left out instead of failing <c>Fit</c>. Left-out images are counted and named in one
    /// warning through <c>MLContext.Log</c>; if none is left, <c>Fit</c> fails. Off by default, so a broken dataset is
    /// noticed; a missing label always fails.
    /// </summary>
    public bool SkipUnreadableImages;

    /// <summary>
    /// Images scored after every epoch (same columns as the training data); the weights of the epoch with the best
    /// validation accuracy are the ones kept. Overrides <see cref="ValidationFraction"/>.
    /// </summary>
    public IDataView? ValidationSet;

    /// <summary>
    /// Fraction of the training rows set aside (seeded) for validation when <see cref="ValidationSet"/> is null;
    /// 0 (the default) trains on every row and keeps the last epoch.
    /// </summary>
    public double ValidationFraction;

    /// <summary>Stop after this many epochs without a validation-accuracy gain; null never stops early.</summary>
    public int? EarlyStoppingPatience;

    /// <summary>Smallest validation-accuracy gain that counts as an improvement.</summary>
    public double EarlyStoppingMinDelta;

    /// <summary>Called after every epoch with its metrics (also written to <c>MLContext.Log</c>).</summary>
    public Action<HfferEpochMetrics>? EpochCompleted;

    /// <summary>
    /// Called every <see cref="ProgressEveryNSteps"/> optimizer steps with the epoch's running loss and accuracy,
    /// images per second and the estimated time left (also written to <c>MLContext.Log</c>).
    /// </summary>
    public Action<HfferTrainingProgress>? ProgressReported;

    /// <summary>Optimizer steps between <see cref="ProgressReported"/> reports; 0 reports whole epochs only.</summary>
    public int ProgressEveryNSteps = 50;

    /// <summary>
    /// Where the frozen prior's features (DINOv2's or <see cref="OnnxPrior"/>'s) are kept between epochs (default:
    /// computed once, in memory). The prior never trains, so caching changes results only by float rounding, and the
    /// time: it removes the frozen forward pass (61 % of the paper network's forward cost) from every step; a
    /// paper-preset step takes 0.67 of the time.
    /// </summary>
    /// <remarks>
    /// The cache is bypassed when <see cref="AugmentFrozenBranch"/> is set together with <see cref="RandomShift"/> or
    /// <see cref="RandomErasing"/>, because the frozen branch's input then differs in every step. Flipping never
    /// bypasses it: each image's mirror image is cached too.
    /// </remarks>
    public FeatureCacheMode FeatureCache = FeatureCacheMode.Memory;

    /// <summary>
    /// Folder of the <see cref="FeatureCacheMode.Disk"/> cache; null uses <c>~/.cache/hffer-mlnet/features</c>.
    /// Entries are keyed by image content and frozen-weight identity, so one folder serves many data sets and runs.
    /// </summary>
    public string? FeatureCacheDirectory;

    /// <summary>
    /// Whether random shifts and erasing also change the frozen branch's input, as when one augmented tensor feeds
    /// both branches (POSTER's pipeline). Off by default: the frozen branch sees each image or its mirror image, the
    /// trainable IR50 branch sees every augmentation, and the features can be cached. On bypasses the cache.
    /// </summary>
    /// <remarks>
    /// Measured on the 6,379-image FER-2013 sample with the small preset (random frozen branch, 14 epochs, one seed):
    /// 46.1 % accuracy with this on versus 43.7 % off, 18 % slower. Not measured with pretrained DINOv2 weights.
    /// </remarks>
    public bool AugmentFrozenBranch;

    /// <summary>
    /// Folder where a checkpoint (trainable weights, Adam state, best validation epoch, metrics, epoch number) is
    /// written after every epoch, atomically; null writes none. The frozen prior's weights are not stored: they come
    /// from <see cref="Dinov2Checkpoint"/> (or the seed), or <see cref="OnnxPrior"/>'s model file, again, and a
    /// checkpoint refuses another prior.
    /// </summary>
    public string? CheckpointDirectory;

    /// <summary>
    /// Continue from the checkpoint in <see cref="CheckpointDirectory"/> when one is there: training goes on with the
    /// epoch after the saved one and, with the same data and options, ends with exactly the weights of an
    /// uninterrupted run. Raise <see cref="Epochs"/> to train a finished run longer. Without a checkpoint training
    /// starts at epoch 1.
    /// </summary>
    public bool ResumeFromCheckpoint;

    /// <summary>
    /// Stops training within one step. After the first optimizer step <c>Fit</c> returns the model so far (the best
    /// validated epoch when there is one, else the current weights, possibly from the middle of an epoch); while
    /// reading images, caching features or before the first step it throws <see cref="OperationCanceledException"/>.
    /// A checkpoint, when written, keeps the last finished epoch.
    /// </summary>
    public CancellationToken CancellationToken;

    /// <summary>The network sizes in effect.</summary>
    public HfferArchitecture ResolveArchitecture() => Architecture ?? (Preset == HfferPreset.Paper
        ? HfferArchitecture.Paper
        : HfferArchitecture.Small);

    /// <summary>The folder of the disk feature cache in effect.</summary>
    public string ResolveFeatureCacheDirectory() => FeatureCacheDirectory ?? Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "hffer-mlnet", "features");

    /// <summary>The learning rate in effect.</summary>
    public double ResolveLearningRate() => LearningRate ?? (Preset == HfferPreset.Paper && Architecture is null
        ? 4e-5
        : 3e-4);

    internal void Validate()
    {
        RequireName(LabelColumnName, nameof(LabelColumnName));
        RequireName(ImageColumnName, nameof(ImageColumnName));
        RequireName(ScoreColumnName, nameof(ScoreColumnName));
        RequireName(PredictedLabelColumnName, nameof(PredictedLabelColumnName));
        if (Epochs < 1)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "At least one epoch is needed.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be positive.");
        if (ResolveLearningRate() is not (> 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Expected a value in (0, 1).");
        if (LearningRateDecay is not (> 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(LearningRateDecay), LearningRateDecay, "Expected (0, 1].");
        if (RandomShift is not (>= 0 and < 0.5))
            throw new ArgumentOutOfRangeException(nameof(RandomShift), RandomShift, "Expected [0, 0.5).");
        if (RandomErasing is not (>= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(RandomErasing), RandomErasing, "Expected [0, 1].");
        if (ValidationFraction is not (>= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "Expected [0, 1).");
        if (EarlyStoppingPatience is < 1)
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "Expected 1 or more.");
        if (EarlyStoppingPatience is not null && ValidationSet is null && ValidationFraction == 0)
            throw new ArgumentException(
                $"{nameof(EarlyStoppingPatience)} needs validation data: set {nameof(ValidationSet)} or {nameof(ValidationFraction)}.",
                nameof(EarlyStoppingPatience));
        if (WeightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Expected 0 or more.");
        if (LabelSmoothing is not (>= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing, "Expected [0, 1).");
        if (ProgressEveryNSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(ProgressEveryNSteps), ProgressEveryNSteps, "Expected 0 or more.");
        if (!Enum.IsDefined(FeatureCache))
            throw new ArgumentOutOfRangeException(nameof(FeatureCache), FeatureCache, "Unknown cache mode.");
        if (CheckpointDirectory is { } folder && File.Exists(folder))
            throw new ArgumentException(
                $"{nameof(CheckpointDirectory)} '{folder}' is a file; it must name a folder (created when missing).",
                nameof(CheckpointDirectory));
        if (ResumeFromCheckpoint && string.IsNullOrWhiteSpace(CheckpointDirectory))
            throw new ArgumentException(
                $"{nameof(ResumeFromCheckpoint)} needs {nameof(CheckpointDirectory)}, the folder holding the checkpoint.",
                nameof(ResumeFromCheckpoint));
        if (SmoothedLossWeight is not (>= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(SmoothedLossWeight), SmoothedLossWeight, "Expected [0, 1].");
        if (OnnxPrior is not null)
            ValidateOnnxPrior(OnnxPrior);
        ResolveArchitecture().Validate();
    }

    private void ValidateOnnxPrior(OnnxFeaturizerPrior prior)
    {
        if (Dinov2Checkpoint is not null)
            throw new ArgumentException(
                $"{nameof(Dinov2Checkpoint)} and {nameof(OnnxPrior)} are both set; the ONNX prior replaces DINOv2.",
                nameof(OnnxPrior));
        const string Why = "runs in ONNX Runtime once per image before training, so its features are always cached";
        if (FeatureCache == FeatureCacheMode.None)
            throw new ArgumentException(
                $"{nameof(FeatureCache)} is None, but an {nameof(OnnxPrior)} {Why}: use Memory or Disk.",
                nameof(FeatureCache));
        if (AugmentFrozenBranch)
            throw new ArgumentException(
                $"{nameof(AugmentFrozenBranch)} is set, but an {nameof(OnnxPrior)} {Why}: shifts and erasing cannot " +
                "reach it. Leave it off.", nameof(AugmentFrozenBranch));
        prior.Validate();
    }

    private static void RequireName(string value, string option)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException($"{option} must name a column.", option);
    }
}

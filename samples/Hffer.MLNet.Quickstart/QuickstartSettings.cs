using System.Globalization;
using Hffer.MLNet;

namespace Hffer.MLNet.Quickstart;

/// <summary>Command-line settings of the quickstart.</summary>
internal sealed record QuickstartSettings(string Dataset, HfferPreset Preset, int Epochs, int BatchSize, string Output,
    double? LearningRate, int Seed, double ValidationFraction, string? Checkpoints, bool AugmentFrozenBranch,
    QuickstartPrior Prior, string? Dinov2Checkpoint)
{
    public static QuickstartSettings Parse(string[] args)
    {
        string dataset = Path.Combine(AppContext.BaseDirectory, "data", "fer2013-mini");
        var preset = HfferPreset.Small;
        int? epochs = null;
        int batchSize = 16;
        double? learningRate = null;
        int seed = 1;
        string output = Path.GetFullPath("quickstart-output");
        double validationFraction = 0.2;
        string? checkpoints = null;
        bool augmentFrozenBranch = false;
        QuickstartPrior? prior = null;
        string? dinov2Checkpoint = null;

        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--preset": preset = Enum.Parse<HfferPreset>(Value(), ignoreCase: true); break;
                case "--epochs": epochs = int.Parse(Value()); break;
                case "--batch-size": batchSize = int.Parse(Value()); break;
                case "--learning-rate": learningRate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--output": output = Path.GetFullPath(Value()); break;
                case "--validation-fraction":
                    validationFraction = double.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--checkpoints": checkpoints = Path.GetFullPath(Value()); break;
                case "--augment-frozen-branch": augmentFrozenBranch = true; break;
                case "--prior": prior = Enum.Parse<QuickstartPrior>(Value(), ignoreCase: true); break;
                case "--dinov2-checkpoint": dinov2Checkpoint = Path.GetFullPath(Value()); break;
                case var flag when flag.StartsWith("--", StringComparison.Ordinal):
                    throw new ArgumentException($"Unknown option {flag}.");
                default: dataset = Path.GetFullPath(args[i]); break;
            }
        }

        // The small preset gets the offline pretrained ResNet18 prior; the paper preset keeps DINOv2, as published.
        prior ??= preset == HfferPreset.Paper || dinov2Checkpoint is not null
            ? QuickstartPrior.Dinov2
            : QuickstartPrior.ResNet18;

        if (augmentFrozenBranch && prior == QuickstartPrior.ResNet18)
            throw new ArgumentException(
                "--augment-frozen-branch needs --prior dinov2: the ResNet18 prior runs once per image before training.");

        // The bundled 280 training images need many passes; a large dataset needs fewer.
        return new QuickstartSettings(dataset, preset, epochs ?? 40, batchSize, output, learningRate, seed,
            validationFraction, checkpoints, augmentFrozenBranch, prior.Value, dinov2Checkpoint);
    }
}

/// <summary>The frozen prior the quickstart trains with.</summary>
internal enum QuickstartPrior
{
    /// <summary>ImageNet ResNet18 from ML.NET's NuGet package, run by ONNX Runtime (offline, pretrained).</summary>
    ResNet18,

    /// <summary>The paper's DINOv2 branch: official weights with --dinov2-checkpoint, random weights without.</summary>
    Dinov2,
}

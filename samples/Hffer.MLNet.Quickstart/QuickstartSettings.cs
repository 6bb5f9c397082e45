using System.Globalization;
using Hffer.MLNet;

namespace Hffer.MLNet.Quickstart;

/// <summary>Command-line settings of the quickstart.</summary>
internal sealed record QuickstartSettings(string Dataset, HfferPreset Preset, int Epochs, int BatchSize, string Output,
    double? LearningRate, int Seed, double ValidationFraction, string? Checkpoints, bool AugmentFrozenBranch)
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
                case var flag when flag.StartsWith("--", StringComparison.Ordinal):
                    throw new ArgumentException($"Unknown option {flag}.");
                default: dataset = Path.GetFullPath(args[i]); break;
            }
        }

        // The bundled 280 training images need many passes; a large dataset needs fewer.
        return new QuickstartSettings(dataset, preset, epochs ?? 40, batchSize, output, learningRate, seed,
            validationFraction, checkpoints, augmentFrozenBranch);
    }
}

namespace Hffer.MLNet.CudaScoring;

/// <summary>Command-line settings of the CUDA scoring measurement.</summary>
internal sealed record CudaScoringSettings(int Device, HfferPreset Preset, string? OnnxPath, int[] Batches,
    double Seconds, bool AllowCpu)
{
    private static readonly int[] AllBatches = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    /// <exception cref="ArgumentException">An option is unknown or its value is not valid.</exception>
    public static CudaScoringSettings Parse(string[] args)
    {
        var settings = new CudaScoringSettings(0, HfferPreset.Paper, null, AllBatches, 3, false);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            settings = args[i] switch
            {
                "--device" => settings with { Device = int.Parse(Value()) },
                "--preset" => settings with { Preset = Enum.Parse<HfferPreset>(Value(), ignoreCase: true) },
                "--onnx" => settings with { OnnxPath = Value() },
                "--batches" => settings with { Batches = Value().Split(',').Select(int.Parse).ToArray() },
                "--seconds" => settings with { Seconds = double.Parse(Value()) },
                "--allow-cpu" => settings with { AllowCpu = true },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }
        if (settings.Batches.Any(b => b < 1) || settings.Seconds <= 0 || settings.Device < 0)
            throw new ArgumentException("Batch sizes and seconds must be positive and the device index 0 or more.");
        return settings;
    }
}

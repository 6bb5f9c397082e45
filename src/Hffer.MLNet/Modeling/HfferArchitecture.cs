namespace Hffer.MLNet.Modeling;

/// <summary>Where the HFFE block merges the two cross-attention branches.</summary>
public enum HffePlacement
{
    /// <summary>
    /// HFFE is the merge step inside every fusion module (reference-notes resolution A4, the default).
    /// </summary>
    EveryModule,

    /// <summary>
    /// The fusion modules merge their two branches by summation and a single HFFE block fuses the last module's
    /// output with the DINOv2 map before the classifier (the cheaper "lite" variant of A4).
    /// </summary>
    AfterStack,
}

/// <summary>
/// Every size of the HFFER network. <see cref="Paper"/> gives the published network; <see cref="Small"/> keeps
/// every kind of block with fewer and narrower layers and a smaller input, so it trains in minutes on a laptop CPU.
/// </summary>
/// <remarks>
/// The token grid of the fusion stage follows from <see cref="InputSize"/>: the IR50 branch runs at half the input
/// size, its stage-3 map is reduced by a stride-2 convolution, and the DINOv2 patch grid is average-pooled to the
/// same grid. At 224 pixels that is 7x7 = 49 tokens, as in the paper.
/// </remarks>
public sealed record HfferArchitecture
{
    /// <summary>Side of the square RGB input image in pixels (both branches see the same tensor).</summary>
    public int InputSize { get; init; } = 224;

    /// <summary>Output channels of the IR50 input layer.</summary>
    public int Ir50StemChannels { get; init; } = 64;

    /// <summary>Output channels of IR50 stages 1-3 (POSTER builds stages 1-3 only).</summary>
    public IReadOnlyList<int> Ir50StageChannels { get; init; } = [64, 128, 256];

    /// <summary>Number of <c>bottleneck_IR</c> units in each IR50 stage.</summary>
    public IReadOnlyList<int> Ir50StageUnits { get; init; } = [3, 4, 14];

    /// <summary>DINOv2 embedding width; it is also the width of the fusion stage.</summary>
    public int VitEmbedDim { get; init; } = 768;

    /// <summary>Number of DINOv2 transformer blocks.</summary>
    public int VitDepth { get; init; } = 12;

    /// <summary>Number of DINOv2 attention heads.</summary>
    public int VitHeads { get; init; } = 12;

    /// <summary>DINOv2 patch size in pixels.</summary>
    public int VitPatchSize { get; init; } = 14;

    /// <summary>Hidden width of the DINOv2 MLP as a multiple of <see cref="VitEmbedDim"/>.</summary>
    public int VitMlpRatio { get; init; } = 4;

    /// <summary>Side of the positional-embedding grid the DINOv2 weights were trained with (37 for 518 pixels).</summary>
    public int VitPositionGrid { get; init; } = 37;

    /// <summary>Number of stacked bidirectional fusion modules.</summary>
    public int FusionModules { get; init; } = 8;

    /// <summary>Attention heads of each cross-attention in the fusion modules.</summary>
    public int FusionHeads { get; init; } = 8;

    /// <summary>Hidden width of the fusion-module MLP as a multiple of the fusion width.</summary>
    public int FusionMlpRatio { get; init; } = 4;

    /// <summary>Stochastic-depth rate of the last fusion module; it grows linearly from 0 over the stack.</summary>
    public double DropPathRate { get; init; } = 0.1;

    /// <summary>Whether learnable positional embeddings are added to both token streams before the stack.</summary>
    public bool UseTokenPositionEmbeddings { get; init; } = true;

    /// <summary>Where HFFE merges the two branches.</summary>
    public HffePlacement HffePlacement { get; init; } = HffePlacement.EveryModule;

    /// <summary>
    /// Whether HFFE applies the 3x3 conv-BN-ReLU after spatial attention (HFFER eq. 1-2); HAFNet's code omits it.
    /// </summary>
    public bool HffeUseCbr3 { get; init; } = true;

    /// <summary>
    /// Whether each branch is calibrated with the other branch's weight map (HAFNet code) instead of its own
    /// (HFFER eq. 5-6, the default).
    /// </summary>
    public bool HffeCrossedCalibration { get; init; }

    /// <summary>Channel reduction inside the HFFE weight-map (SWM) generators.</summary>
    public int HffeSwmReduction { get; init; } = 16;

    /// <summary>Channel reduction of coordinate attention; the hidden width is max(8, width / reduction).</summary>
    public int CoordinateAttentionReduction { get; init; } = 32;

    /// <summary>The network at the sizes of the HFFER paper: IR50 stages 1-3, DINOv2 ViT-B/14, 8 modules, 224 input.</summary>
    public static HfferArchitecture Paper { get; } = new();

    /// <summary>
    /// A network with every kind of block of <see cref="Paper"/>, sized to train from scratch on a CPU: 112-pixel
    /// input, a narrow 6-unit IR50, a 2-block 96-wide ViT, 2 fusion modules, a 4x4 token grid.
    /// </summary>
    public static HfferArchitecture Small { get; } = new()
    {
        InputSize = 112,
        Ir50StemChannels = 32,
        Ir50StageChannels = [32, 64, 128],
        Ir50StageUnits = [2, 2, 2],
        VitEmbedDim = 96,
        VitDepth = 2,
        VitHeads = 4,
        FusionModules = 2,
        FusionHeads = 4,
        DropPathRate = 0.0,
    };

    /// <summary>Side of the IR50 branch input: POSTER resizes the 224 image to 112 inside the network.</summary>
    public int Ir50InputSize => InputSize / 2;

    /// <summary>Side of the DINOv2 patch grid.</summary>
    public int VitPatchGrid => InputSize / VitPatchSize;

    /// <summary>Side of the fusion token grid (7 at 224 pixels).</summary>
    public int TokenGrid
    {
        get
        {
            // Input layer keeps the size, each stage halves it, then the stride-2 3x3 adapter halves it once more.
            int stage3 = Ir50InputSize >> Ir50StageUnits.Count;
            return (stage3 + 2 - 3) / 2 + 1;
        }
    }

    /// <summary>Width of the fusion stage.</summary>
    public int FusionDim => VitEmbedDim;

    /// <summary>Checks that the sizes fit together and names the first one that does not.</summary>
    /// <exception cref="ArgumentException">A size is out of range or inconsistent with another.</exception>
    public void Validate()
    {
        if (InputSize < 28 || InputSize % 2 != 0)
            throw new ArgumentException($"{nameof(InputSize)} must be an even number of at least 28, got {InputSize}.");
        if (InputSize % VitPatchSize != 0)
            throw new ArgumentException(
                $"{nameof(InputSize)} ({InputSize}) must be a multiple of {nameof(VitPatchSize)} ({VitPatchSize}).");
        if (Ir50StageChannels.Count != 3 || Ir50StageUnits.Count != 3)
            throw new ArgumentException("IR50 has exactly three stages here (POSTER omits the fourth).");
        if (Ir50StageUnits.Any(u => u < 1))
            throw new ArgumentException($"{nameof(Ir50StageUnits)} must all be at least 1.");
        if (Ir50InputSize % (1 << Ir50StageUnits.Count) != 0)
            throw new ArgumentException($"{nameof(InputSize)} / 2 must be divisible by 8 for the three IR50 stages.");
        if (VitEmbedDim % VitHeads != 0)
            throw new ArgumentException($"{nameof(VitEmbedDim)} must be divisible by {nameof(VitHeads)}.");
        if (FusionDim % FusionHeads != 0)
            throw new ArgumentException($"{nameof(VitEmbedDim)} must be divisible by {nameof(FusionHeads)}.");
        if (FusionDim % HffeSwmReduction != 0 || FusionDim / HffeSwmReduction < 1)
            throw new ArgumentException($"{nameof(VitEmbedDim)} must be divisible by {nameof(HffeSwmReduction)}.");
        if (FusionModules < 1 || VitDepth < 1)
            throw new ArgumentException($"{nameof(FusionModules)} and {nameof(VitDepth)} must be at least 1.");
        if (VitPatchGrid < TokenGrid)
            throw new ArgumentException(
                $"The DINOv2 patch grid ({VitPatchGrid}) is smaller than the token grid ({TokenGrid}).");
        if (DropPathRate is < 0 or >= 1)
            throw new ArgumentException($"{nameof(DropPathRate)} must be in [0, 1).");
    }
}

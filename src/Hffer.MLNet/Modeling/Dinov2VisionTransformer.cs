using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// The frozen prior branch: a DINOv2 vision transformer (Oquab et al. 2023, facebookresearch/dinov2) without
/// register tokens, returning its final-LayerNorm patch tokens as a spatial map.
/// </summary>
/// <remarks>
/// Parameter names are the torch.hub checkpoint's (<c>cls_token</c>, <c>pos_embed</c>, <c>mask_token</c>,
/// <c>patch_embed.proj.*</c>, <c>blocks.N.*</c>, <c>norm.*</c>), so <c>dinov2_vitb14_pretrain.pth</c> loads by name.
/// The positional table is resized from the training grid to the input's patch grid the way the hub code does
/// (bicubic, scale factor (grid + 0.1) / training grid); the CLS position is kept as is.
/// </remarks>
internal sealed class Dinov2VisionTransformer : Module<Tensor, Tensor>
{
    /// <summary>The offset the hub code adds to the target grid before computing the scale factor.</summary>
    internal const double InterpolationOffset = 0.1;

    internal readonly Parameter cls_token;
    internal readonly Parameter pos_embed;
    internal readonly Parameter mask_token;
    internal readonly PatchEmbed patch_embed;
    internal readonly ModuleList<VitBlock> blocks;
    internal readonly LayerNorm norm;

    // Resized positional tables per (grid, device), kept only while pos_embed is frozen. A dictionary rather than
    // a tensor field, so RegisterComponents never mistakes a cache entry for a buffer of the checkpoint.
    private readonly Dictionary<(int Grid, DeviceType Type, int Index), Tensor> _positionTables = [];

    public Dinov2VisionTransformer(HfferArchitecture architecture) : base(nameof(Dinov2VisionTransformer))
    {
        EmbedDim = architecture.VitEmbedDim;
        PatchSize = architecture.VitPatchSize;
        PositionGrid = architecture.VitPositionGrid;

        // Initialisation follows the hub model's shapes; real use loads pretrained values over these.
        cls_token = new Parameter(randn(1, 1, EmbedDim) * 1e-6);
        pos_embed = new Parameter(randn(1, 1 + PositionGrid * PositionGrid, EmbedDim) * 0.02);
        mask_token = new Parameter(zeros(1, EmbedDim));
        patch_embed = new PatchEmbed(PatchSize, EmbedDim);
        blocks = new ModuleList<VitBlock>(Enumerable.Range(0, architecture.VitDepth)
            .Select(_ => new VitBlock(EmbedDim, architecture.VitHeads, architecture.VitMlpRatio)).ToArray());
        norm = LayerNorm(EmbedDim, VitBlock.NormEpsilon);

        RegisterComponents();
    }

    public int EmbedDim { get; }

    public int PatchSize { get; }

    /// <summary>Side of the grid the positional table was trained for (37 for the official weights).</summary>
    public int PositionGrid { get; }

    /// <summary>
    /// The positional table for a <paramref name="patchGrid"/> x <paramref name="patchGrid"/> input, shaped
    /// [1, 1 + grid^2, dim]; the export bakes it into the graph as a constant.
    /// </summary>
    public Tensor PositionEmbeddingFor(int patchGrid)
    {
        if (pos_embed.requires_grad)
            return ResizePositions(patchGrid);

        // Frozen: resize once per grid and device, as the table cannot change until new weights are loaded.
        var key = (patchGrid, pos_embed.device_type, pos_embed.device_index);
        if (!_positionTables.TryGetValue(key, out var table))
        {
            table = ResizePositions(patchGrid);
            table.DetachFromDisposeScope();
            _positionTables[key] = table;
        }
        return table.alias();
    }

    /// <summary>Drops the cached positional tables; called after new weights are copied in.</summary>
    public void ForgetPositionTables()
    {
        foreach (var table in _positionTables.Values)
            table.Dispose();
        _positionTables.Clear();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            ForgetPositionTables();
        base.Dispose(disposing);
    }

    private Tensor ResizePositions(int patchGrid)
    {
        using var noGrad = no_grad();
        if (patchGrid == PositionGrid)
            return pos_embed.detach().clone();

        using var scope = NewDisposeScope();
        var classPosition = pos_embed[.., ..1];
        var grid = pos_embed[.., 1..].reshape(1, PositionGrid, PositionGrid, EmbedDim).permute(0, 3, 1, 2);

        // Passing the scale factor (not the size) and not recomputing it reproduces the hub's sampling positions.
        double scale = (patchGrid + InterpolationOffset) / PositionGrid;
        var resized = nn.functional.interpolate(grid, scale_factor: [scale, scale], mode: InterpolationMode.Bicubic,
            align_corners: false, recompute_scale_factor: false);
        if (resized.shape[2] != patchGrid || resized.shape[3] != patchGrid)
            throw new InvalidOperationException(
                $"Positional interpolation produced {resized.shape[2]}x{resized.shape[3]}, expected {patchGrid}.");

        var patchPositions = resized.permute(0, 2, 3, 1).reshape(1, patchGrid * patchGrid, EmbedDim);
        return cat([classPosition, patchPositions], 1).MoveToOuterDisposeScope();
    }

    /// <summary>[B, 3, H, W] normalized image to the final-LayerNorm patch map [B, dim, H/p, W/p].</summary>
    public override Tensor forward(Tensor image)
    {
        long batch = image.shape[0];
        int patchGrid = (int)(image.shape[2] / PatchSize);

        using var scope = NewDisposeScope();
        var tokens = patch_embed.call(image);
        tokens = cat([cls_token.expand(batch, -1, -1), tokens], 1) + PositionEmbeddingFor(patchGrid);

        foreach (var block in blocks)
        {
            // One scope per block keeps only the running activations alive (peak memory, platform notes).
            using var blockScope = NewDisposeScope();
            tokens = block.call(tokens).MoveToOuterDisposeScope();
        }

        var patches = norm.call(tokens)[.., 1..];
        return patches.transpose(1, 2).reshape(batch, EmbedDim, patchGrid, patchGrid).MoveToOuterDisposeScope();
    }
}
